"""``<details><summary>QUESTION</summary> ANSWER </details>``: a question in the summary."""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import pairwise

from guidedeck.parse.dialects.base import Context, is_question, lines_of, plain, split_blocks
from guidedeck.parse.dialects.choice import options_of
from guidedeck.parse.family.question_sections import QUESTION
from guidedeck.parse.family.state import heading_level

_SUMMARY_OPEN = re.compile(r"\s*<summary\b[^>]*>", re.IGNORECASE)
_SUMMARY_CLOSE = re.compile(r"</summary\s*>", re.IGNORECASE)
MAX_SUMMARY = 4_000
"""Longest summary read as a question (the longest real one is under 300 characters): the
search for its end is bounded, so many unclosed summaries cost linear time, not quadratic."""
_TAGS = re.compile(r"<(/?)details\b[^>]*>", re.IGNORECASE)
_LEAD = re.compile(r"^(?:\s|<br\s*/?>|<p>)+", re.IGNORECASE)
_LABEL = re.compile(
    r"^(?:show\s+|see\s+|view\s+|click\s+(?:here\s+)?(?:to\s+)?(?:see|show|reveal)\s+)?"
    r"(?:the\s+)?(?:answer|solution|explanation)s?\W*$",
    re.IGNORECASE,
)
"""A summary that only labels what it hides ("Answer", "Show answer", "Solution")."""
_CONTENTS = re.compile(r"\b(?:table\s+of\s+contents|contents|toc)\b", re.IGNORECASE)
_OPTION_LINE = re.compile(r"(?:->\s*)?\(?[A-H][.):]\s")
"""An option line (``A. ...`` / ``-> B. ...``), matched at a line's first non-blank."""
_QUESTION_NUMBER = re.compile(r"^\s*(?:Q(?:uestion)?\s*)?\d{1,4}\s*[.):-]\s*", re.IGNORECASE)
_TRAIL_TAG = re.compile(r"(?:<br\s*/?>|</p>)$", re.IGNORECASE)


class DetailsQuestions:
    """Collections such as "test your sysadmin skills": the question is the summary."""

    name = "details"

    def _questions(self, ctx: Context) -> list[tuple[int, str, str, str, int]]:
        """(line, question, its own text, answer, line after) of each question, in order."""
        text = ctx.src.text
        found: list[tuple[int, str, str, str, int]] = []
        blocks = _Blocks(ctx)
        inside = -1  # a question's answer runs to here: details within it are part of it
        asked_from = 0  # a question before a labelled summary stands after the last answer
        for start, end, close in _pairs(text):
            if start < inside:
                continue
            # the summary opens its details; its end is looked for a bounded way only
            opened = _SUMMARY_OPEN.match(text, end, close)
            if opened is None:
                continue
            bound = min(close, opened.end() + MAX_SUMMARY)
            closed = _SUMMARY_CLOSE.search(text, opened.end(), bound)
            if closed is None:
                continue
            summary, line0, body = text[opened.end() : closed.start()], 0, ""
            line0 = ctx.src.position(start)[0] - 1
            if _CONTENTS.search(summary):
                continue  # "Hide/Show table of contents": an index, not a question
            if not is_question(summary):
                if not _LABEL.match(plain(summary)):
                    continue  # details inside something else ("See Class") may still ask
                asked = blocks.asked_before(asked_from, line0)
                # the next labelled summary looks no further back than this one's end (else
                # a file of them would be read in quadratic time)
                asked_from = ctx.src.position(close)[0]
                if asked is None:
                    continue
                line0, summary, body = asked
            answer = _trim(text[closed.end() : close])
            inside = close
            asked_from = ctx.src.position(close)[0]
            found.append((line0, summary, body, answer, asked_from))
        return found

    def detect(self, ctx: Context) -> int:
        """Summaries that are questions."""
        return len(self._questions(ctx))

    def extract(self, ctx: Context) -> None:
        """A card per question with an answer."""
        for line0, question, body, answer, end in self._questions(ctx):
            ctx.question_card(line0, question, body, split_blocks(answer), end=end)


class _Blocks:
    """The guide's top-level blocks, by line: what stands before a labelled summary is found
    by bisection, so a guide of many of them is read in linear time."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.blocks = [b for b in ctx.tree if b.type != "front_matter"]
        self.lines = [b.line for b in self.blocks]
        self.own = {b.line for b in self.blocks if b.type == "html_block"}

    def asked_before(self, after: int, line0: int) -> tuple[int, str, str] | None:
        """The question a labelled summary at ``line0`` answers: the last heading (or bold
        or asking paragraph) after line ``after``, with the blocks between it and the details
        (its code, a table) as its own text. None when there is none; when options stand
        before it (multiple choice: the choice plugin's, or a Quick Check's); or when it is a
        ``### Question N`` heading (the family's question sections read those)."""
        if line0 not in self.own:
            return None  # not a block of its own (in a fence, in a list item)
        lo, hi = bisect_left(self.lines, after), bisect_left(self.lines, line0)
        before = [b for b in self.blocks[lo:hi] if b.type != "html_block"]
        if any(options_of(b) is not None or _has_option_lines(b.text) for b in before):
            return None
        for n in range(len(before) - 1, -1, -1):
            block = before[n]
            if block.type == "heading" and heading_level(block) == 1:
                return None  # the guide's title asks nothing
            text = block.text.strip()
            asks = block.type == "heading" or (
                block.type == "paragraph" and "\n" not in text
                and (text.startswith("**") or is_question(text))
            )  # fmt: skip
            if not asks:
                continue
            if QUESTION.match(text):
                return None
            body = "\n\n".join(lines_of(self.ctx, before[n + 1 :]))
            return block.line, _QUESTION_NUMBER.sub("", plain(block.text)), body
        return None


def _has_option_lines(text: str) -> bool:
    """Two option lines in a row: a Quick Check's or a quiz's options."""
    marked = [bool(_OPTION_LINE.match(line.lstrip())) for line in text.split("\n")]
    return any(a and b for a, b in pairwise(marked))


def _trim(answer: str) -> str:
    """``answer`` without the blank space, ``<br>`` and ``<p>``/``</p>`` around it (a loop, not
    a regex anchored at the end: that one is quadratic in a long run of spaces)."""
    answer = _LEAD.sub("", answer)
    while True:
        answer = answer.rstrip()
        tail = _TRAIL_TAG.search(answer, max(0, len(answer) - 16))
        if tail is None:
            return answer
        answer = answer[: tail.start()]


def _pairs(text: str) -> list[tuple[int, int, int]]:
    """(start, end of the opening tag, start of the closing tag) of every ``<details>``, in
    order of opening, in one pass; one never closed runs to the end of the text."""
    stack: list[tuple[int, int]] = []
    pairs: list[tuple[int, int, int]] = []
    for tag in _TAGS.finditer(text):
        if not tag.group(1):
            stack.append((tag.start(), tag.end()))
        elif stack:
            start, end = stack.pop()
            pairs.append((start, end, tag.start()))
    pairs.extend((start, end, len(text)) for start, end in stack)
    return sorted(pairs)
