"""A heading that asks, then ``#### Answer`` (and ``#### Good to hear``) headings below it."""

from __future__ import annotations

import re

from guidedeck.parse.blocks import Block
from guidedeck.parse.dialects.base import Context, lines_of

_ANSWER = re.compile(r"^\W*answer\W*$", re.IGNORECASE)
_EXTRA = re.compile(r"^\W*good to hear\W*$", re.IGNORECASE)
# the comment whole, its inside read apart: three quantifiers over one run of spaces were cubic
_TAGS = re.compile(r"<!--\s*tags:([^>]*)-->", re.IGNORECASE)


def _level(block: Block) -> int:
    return int(block.token.tag[1:]) if block.token.tag[1:].isdigit() else 0


def _tag_list(inside: str) -> str:
    """``(a, b)`` or ``a, b`` -> ``a, b`` (a ``)`` inside ends the list, as it always did)."""
    inside = inside.strip()
    inside = inside.removeprefix("(")
    return inside.split(")", 1)[0]


class HeadingAnswer:
    """Collections such as "30 seconds of interviews": one heading per question."""

    name = "heading-answer"

    def _questions(self, ctx: Context) -> list[tuple[Block, list[Block], list[Block]]]:
        items = [b for b in ctx.tree if b.type not in ("front_matter",)]
        found = []
        for n, block in enumerate(items):
            if block.type != "heading" or _ANSWER.match(block.text) or _EXTRA.match(block.text):
                continue
            level = _level(block)
            body: list[Block] = []
            answer: list[Block] = []
            part = "body"
            answer_level = 0
            for later in items[n + 1 :]:
                if later.type == "heading":
                    if _level(later) <= level:
                        break
                    if _ANSWER.match(later.text) and part == "body":
                        part, answer_level = "answer", _level(later)
                        continue
                    if part == "answer" and _level(later) > answer_level:
                        answer.append(later)  # the answer's own sub-headings
                        continue
                    if _EXTRA.match(later.text) and part in ("answer", "other"):
                        part = "answer"
                        answer.append(later)  # "Good to hear": kept, as a bold line
                        continue
                    if part != "body":
                        part = "other"  # "Additional links" and the like: not the answer
                    continue
                if part == "body":
                    body.append(later)
                elif part == "answer" and later.type != "html_block":
                    answer.append(later)
            if part != "body" or answer:
                found.append((block, body, answer))
        return found

    def detect(self, ctx: Context) -> int:
        """Question headings with an Answer heading below them."""
        return len(self._questions(ctx))

    def extract(self, ctx: Context) -> None:
        """A card per question; tags from ``<!-- tags: (a,b) -->`` comments."""
        tags = tuple(
            t.strip().lower()
            for m in _TAGS.finditer(ctx.src.text)
            for t in _tag_list(m.group(1)).split(",")
            if t.strip()
        )
        for heading, body, answer in self._questions(ctx):
            parts = [
                f"**{b.text.strip()}**" if b.type == "heading" else ctx.src.lines(b.line, b.end)
                for b in answer
            ]
            last = max((b.end for b in [heading, *body, *answer]), default=heading.end)
            ctx.question_card(heading.line, heading.text, "\n\n".join(lines_of(ctx, body)), parts,
                              tags, end=last)  # fmt: skip
