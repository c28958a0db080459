"""Numbered list items that open with a heading: ``1.  ### QUESTION``, the answer indented below."""

from __future__ import annotations

import re

from guidedeck.parse.blocks import Block
from guidedeck.parse.dialects.base import Context, lines_of

_ONLY_LINK = re.compile(r"^\W*\[[^\]]*\]\(#[^)]*\)\W*$")


class NumberedHeadings:
    """Collections such as "React interview questions": ``N. ### Q`` then the answer."""

    name = "numbered"

    def _items(self, ctx: Context) -> list[Block]:
        items = []
        for block in ctx.tree:
            if block.type != "ordered_list":
                continue
            for item in block.children:
                if item.children and item.children[0].type == "heading":
                    items.append(item)
        return items

    def detect(self, ctx: Context) -> int:
        """List items that open with a heading."""
        found = self._items(ctx)
        return len(found) if len(found) >= 2 else 0

    def extract(self, ctx: Context) -> None:
        """A card per item; a "Back to Top" link is no part of an answer."""
        for item in self._items(ctx):
            heading, *rest = item.children
            answer = [b for b in rest if not (b.type == "paragraph" and _ONLY_LINK.match(b.text))]
            ctx.question_card(heading.line, heading.text, "", lines_of(ctx, answer),
                              end=item.end)  # fmt: skip
