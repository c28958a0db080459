"""Multiple choice outside the family's Quick Check: ``- A: ...`` / ``- A) ...`` / ``- [ ] ...``
options under a question heading, the answer as ``#### Answer: X``, ``**Answer: X)**`` or the
ticked ``[x]`` box, the explanation from what follows it."""

from __future__ import annotations

import re

from guidedeck.models import Quiz
from guidedeck.parse.blocks import Block
from guidedeck.parse.dialects.base import Context, lines_of, plain

_LETTERED = re.compile(r"^\s*(?P<letter>[A-H]|\d{1,2})\s*[:)]\s+(?P<text>.+)$", re.S)
_BOX = re.compile(r"^\s*\[(?P<mark>[ xX])\]\s+(?P<text>.+)$", re.S)
# each run of spaces follows its own literal: runs that two quantifiers could share made this
# cubic in the spaces after "answer"
_ANSWER = re.compile(r"answer\s*(?::\s*)?(?:\*+\s*)?(?P<letter>[A-H]|\d{1,2})\b\)?", re.IGNORECASE)
_ANSWER_TEXT = re.compile(r"answer\s*:\s*(?P<text>[^\n]+)", re.IGNORECASE)
_NUMBERED_LINE = re.compile(r"^\s*(?P<letter>\d{1,2})\s*[:.)]\s+(?P<text>\S.*)$")
_QUESTION_NUMBER = re.compile(r"^\s*(?:Q\s*)?\d+\s*[.)]\s*", re.IGNORECASE)


def options_of(block: Block) -> list[tuple[str, str, bool]] | None:
    """(letter, text, ticked) per option of a list of options (``- A: ...``, ``- [x] ...``,
    ``- 1: ...``, a numbered list ``1. ...``, or lines ``1: ...``); None if it is not one."""
    if block.type == "paragraph":
        return _numbered_lines(block.text)
    if block.type not in ("bullet_list", "ordered_list") or len(block.children) < 2:
        return None
    out = []
    for n, item in enumerate(block.children):
        para = next((c for c in item.children if c.type == "paragraph"), None)
        text = para.text if para is not None else ""
        if block.type == "ordered_list" and [c.type for c in item.children] != ["paragraph"]:
            return None  # a numbered list of questions or steps, not of options
        if block.type == "ordered_list":
            out.append((chr(65 + n), _one_line(text), False))
            continue
        lettered, box = _LETTERED.match(text), _BOX.match(text)
        if lettered and lettered["letter"] in (chr(65 + n), str(n + 1)):
            out.append((chr(65 + n), _one_line(lettered["text"]), False))
        elif box:
            out.append((chr(65 + n), _one_line(box["text"]), box["mark"] in "xX"))
        else:
            return None
    return out if all(text for _l, text, _t in out) else None


def _one_line(text: str) -> str:
    """An option written over several lines, as one (its own spaces kept)."""
    return " ".join(part.strip() for part in text.strip().split("\n"))


def _numbered_lines(text: str) -> list[tuple[str, str, bool]] | None:
    """Options written as lines ``1: ...``, ``2: ...`` of one paragraph."""
    lines = text.strip().split("\n")
    found = [_NUMBERED_LINE.match(line) for line in lines]
    if len(lines) < 2 or not all(m and m["letter"] == str(n + 1) for n, m in enumerate(found)):
        return None
    return [(chr(65 + n), m["text"].strip(), False) for n, m in enumerate(found) if m]


def _correct(
    found: re.Match[str] | None, text: str, options: list[tuple[str, str, bool]]
) -> int | None:
    """The option an answer names: by letter, by number, or by its text."""
    if found is not None:
        named = found["letter"]
        return int(named) - 1 if named.isdigit() else ord(named.upper()) - 65
    said = _ANSWER_TEXT.search(text)
    if said is None:
        return None
    wanted = " ".join(said["text"].replace("*", "").split()).strip(" .`").lower()
    hits = [n for n, (_l, option, _t) in enumerate(options)
            if " ".join(option.replace("`", "").split()).lower() == wanted]  # fmt: skip
    return hits[0] if len(hits) == 1 else None


def _answer(
    ctx: Context, items: list[Block], m: int, options: list[tuple[str, str, bool]]
) -> tuple[int | None, list[str], int]:
    """The answer after the options from ``items[m]`` on: a ticked box, or "Answer: X" in a
    heading or a line (by letter, number or text); the explanation that follows it; and where
    the question ends."""
    correct = next((i for i, (_l, _t, ticked) in enumerate(options) if ticked), None)
    explanation: list[str] = []
    while m < len(items):
        block = items[m]
        if block.type == "hr" or (block.type == "heading" and not _ANSWER.search(block.text)):
            break
        text = block.text if block.type in ("heading", "paragraph") else ""
        found = _ANSWER.search(text)
        named = _correct(found, text, options) if correct is None and text else None
        if named is not None:
            correct = named
            rest = text[found.end() :].strip(" *)\n") if found else ""
            if rest and block.type == "paragraph":
                explanation.append(rest)
        elif block.type != "html_block" and correct is not None:
            explanation.append(ctx.src.lines(block.line, block.end))
        m += 1
    return correct, explanation, m


class MultipleChoice:
    """Collections such as "JavaScript questions" (``- A:``, ``#### Answer: D``) and skill
    assessments (``#### Q1.``, ``- [x]``)."""

    name = "choice"

    def _quizzes(self, ctx: Context) -> tuple[list[Quiz], list[int]]:
        """The quizzes, and the lines of questions that had options but no marked answer."""
        items = [b for b in ctx.tree if b.type != "front_matter"]
        quizzes = []
        unanswered: list[int] = []
        n = 0
        while n < len(items):
            head = items[n]
            if head.type != "heading" or _ANSWER.match(head.text.strip()):
                n += 1
                continue
            body: list[Block] = []
            options = None
            k = n + 1
            while k < len(items) and items[k].type != "heading":
                options = options_of(items[k])
                if options is not None:
                    break
                body.append(items[k])
                k += 1
            if options is None:
                n = k
                continue
            correct, explanation, m = _answer(ctx, items, k + 1, options)
            n = m
            if correct is None or not 0 <= correct < len(options):
                unanswered.append(head.line)
                continue
            ctx.spans[head.line] = items[m - 1].end
            ctx.prompts.append((head.line, items[k].line))
            prompt = "\n\n".join([plain(_QUESTION_NUMBER.sub("", head.text)), *lines_of(ctx, body)])
            quizzes.append(
                Quiz(ctx.loc(head.line), prompt, tuple(t for _l, t, _x in options), correct,
                     "\n\n".join(explanation).strip(), None, self.name)
            )  # fmt: skip
        return quizzes, unanswered

    def detect(self, ctx: Context) -> int:
        """Questions with a list of options and a marked answer."""
        return len(self._quizzes(ctx)[0])

    def extract(self, ctx: Context) -> None:
        """A quiz card per question."""
        quizzes, unanswered = self._quizzes(ctx)
        ctx.quizzes.extend(quizzes)
        ctx.unanswered.extend(unanswered)
