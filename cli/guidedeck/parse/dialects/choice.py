"""Multiple choice outside the family's Quick Check: ``- A: ...`` / ``- A) ...`` / ``- [ ] ...``
options under a question heading, the answer as ``#### Answer: X``, ``**Answer: X)**`` or the
ticked ``[x]`` box, the explanation from what follows it."""

from __future__ import annotations

import re

from guidedeck.models import Quiz
from guidedeck.parse.blocks import Block
from guidedeck.parse.dialects.base import Context, lines_of, plain

_LETTERED = re.compile(r"^\s*(?P<letter>[A-H])\s*[:)]\s+(?P<text>.+)$", re.S)
_BOX = re.compile(r"^\s*\[(?P<mark>[ xX])\]\s+(?P<text>.+)$", re.S)
# each run of spaces follows its own literal: runs that two quantifiers could share made this
# cubic in the spaces after "answer"
_ANSWER = re.compile(r"answer\s*(?::\s*)?(?:\*+\s*)?(?P<letter>[A-H])\b\)?", re.IGNORECASE)
_QUESTION_NUMBER = re.compile(r"^\s*(?:Q\s*)?\d+\s*[.)]\s*", re.IGNORECASE)


def _options(block: Block) -> list[tuple[str, str, bool]] | None:
    """(letter, text, ticked) per item of a list of options; None if it is not one."""
    if block.type != "bullet_list" or len(block.children) < 2:
        return None
    out = []
    for n, item in enumerate(block.children):
        para = next((c for c in item.children if c.type == "paragraph"), None)
        text = para.text if para is not None else ""
        lettered, box = _LETTERED.match(text), _BOX.match(text)
        if lettered and lettered["letter"] == chr(65 + n):
            out.append((lettered["letter"], lettered["text"].strip(), False))
        elif box:
            out.append((chr(65 + n), box["text"].strip(), box["mark"] in "xX"))
        else:
            return None
    return out


class MultipleChoice:
    """Collections such as "JavaScript questions" (``- A:``, ``#### Answer: D``) and skill
    assessments (``#### Q1.``, ``- [x]``)."""

    name = "choice"

    def _quizzes(self, ctx: Context) -> tuple[list[Quiz], int]:
        """The quizzes, and how many questions had options but no marked answer."""
        items = [b for b in ctx.tree if b.type != "front_matter"]
        quizzes = []
        unanswered = 0
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
                options = _options(items[k])
                if options is not None:
                    break
                body.append(items[k])
                k += 1
            if options is None:
                n = k
                continue
            # the answer: a ticked box, or "Answer: X" in a heading or a line after the options
            correct = next((i for i, (_l, _t, ticked) in enumerate(options) if ticked), None)
            explanation: list[str] = []
            m = k + 1
            while m < len(items):
                block = items[m]
                if block.type == "heading" and not _ANSWER.search(block.text):
                    break
                if block.type == "hr":
                    break
                found = (
                    _ANSWER.search(block.text) if block.type in ("heading", "paragraph") else None
                )
                if found and correct is None:
                    correct = ord(found["letter"].upper()) - 65
                    rest = block.text[found.end() :].strip(" *)\n")
                    if rest and block.type == "paragraph":
                        explanation.append(rest)
                elif block.type != "html_block" and correct is not None:
                    explanation.append(ctx.src.lines(block.line, block.end))
                m += 1
            n = m
            if correct is None or not 0 <= correct < len(options):
                unanswered += 1
                continue
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
        ctx.unanswered += unanswered
