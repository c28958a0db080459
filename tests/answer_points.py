"""A question's *answer points*, read from a guide's Markdown without guidedeck's parser (#24).

The regression measure of issue #24: in each ``### Question N`` section, every step heading or
bold step line of the answer is a point, with the first sentence of prose under it. A point is
*carried* when that sentence (its first words) is on the back of some card. Reading the guide
here by lines, apart from the parser, keeps the measure honest: a parser that lost a point would
also lose it from its own count.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

QUESTION = re.compile(r"^###\s+Question\s+\d+", re.IGNORECASE)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
BOLD_STEP = re.compile(
    r"^\*\*((?:step|option|phase|stage)\s*\d+[^*]*|\d{1,2}[.)]\s[^*]*)\*\*\s*:?\s*(.*)$",
    re.IGNORECASE,
)
NOT_ANSWER = re.compile(r"^(?:the\s+)?(?:scenario|challenge|task)\W*$", re.IGNORECASE)
ENDS_ANSWER = re.compile(r"^(?:quick\s+check|practice\b)", re.IGNORECASE)
COMPONENT = re.compile(r"^\s*<[A-Z][A-Za-z]*\b")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`*(])")
TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"[^\W_](?:[\w'.-]*[^\W_])?")
TOKEN = re.compile(r"[^\W_]+")
"""Compared words: letters and digits only (code is highlighted token by token)."""
SAMPLE_WORDS = 10
"""Words of a point's first sentence looked for on the backs (the card may shorten it)."""


@dataclass(frozen=True)
class AnswerPoint:
    """A step of an answer and the first sentence under it."""

    line: int
    title: str
    sentence: str


def answer_points(markdown: str) -> list[AnswerPoint]:
    """Every answer point of every question section that has prose under it."""
    points: list[AnswerPoint] = []
    in_section = in_answer = False
    fence = ""
    in_tag = False
    pending: tuple[int, str] | None = None
    for n, line in enumerate(markdown.splitlines(), start=1):
        if in_tag or COMPONENT.match(line):  # a component's attributes are not prose
            in_tag = not line.rstrip().endswith(">")
            continue
        opened = FENCE.match(line)
        if fence or opened:
            if opened and (not fence or opened.group(1)[0] == fence[0]):
                fence = "" if fence else opened.group(1)
            elif pending is not None and in_answer and _code_line(line):
                # a step whose content is code: its first line of code is the point
                points.append(AnswerPoint(pending[0], pending[1], line.strip()))
                pending = None
            continue
        heading = HEADING.match(line)
        if heading:
            level, title = len(heading.group(1)), heading.group(2).strip()
            if QUESTION.match(line):
                in_section, in_answer, pending = True, True, None
            elif level <= 2 and not NOT_ANSWER.match(title) and not in_section:
                pending = None
            elif level == 1:
                in_section = False
            elif in_section and ENDS_ANSWER.match(title):
                in_answer, pending = False, None
            elif in_section and NOT_ANSWER.match(title):
                in_answer, pending = True, None
            elif in_section:
                in_answer, pending = True, (n, title)
            continue
        if not (in_section and in_answer):
            continue
        step = BOLD_STEP.match(line.strip())
        if step:
            pending = (n, step.group(1).strip())
            line = step.group(2)
        text = _prose_line(line)
        if pending is not None and text:
            points.append(AnswerPoint(pending[0], pending[1], SENTENCE_END.split(text, 1)[0]))
            pending = None
    return points


def _code_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("#", "//", "--", "/*", "*", "<!--"))


def _prose_line(line: str) -> str:
    stripped = line.strip()
    if not stripped or stripped.startswith(("|", ">", "<", "---", "**Type", "**Category")):
        return ""
    stripped = re.sub(r"^(?:[-*+]|\d{1,3}[.)])\s+", "", stripped)
    return stripped


def normal(text: str, *, markup: bool = True) -> str:
    """Text as compared: its words, lower-cased (``markup``: an HTML back, whose tags go and
    whose entities are decoded; else Markdown, where ``<x>`` is text and links are their
    text)."""
    if markup:
        text = html.unescape(TAG.sub(" ", text))
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(w.lower() for w in TOKEN.findall(text))


def carried(points: list[AnswerPoint], backs: list[str]) -> int:
    """How many of ``points`` have their sentence's first words on one of ``backs``."""
    haystack = "\n".join(normal(b) for b in backs)
    found = 0
    for point in points:
        words = normal(point.sentence, markup=False).split()[:SAMPLE_WORDS]
        found += " ".join(words) in haystack
    return found


PRE = re.compile(r"<(pre|script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)


def prose_words_html(back: str) -> int:
    """Words of prose on a card's back: code blocks (and the templates' scripts) aside."""
    return len(WORD.findall(html.unescape(TAG.sub(" ", PRE.sub(" ", back)))))


__all__ = ["AnswerPoint", "answer_points", "carried", "normal", "prose_words_html"]
