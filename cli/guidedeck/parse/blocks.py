"""A light block tree over markdown-it's flat token list, and source slicing by ``Token.map``.

markdown-it's own ``SyntaxTreeNode`` also builds nodes for every inline token; card extraction only
needs blocks, so this tree stops at the ``inline`` token of each paragraph, heading or table cell.
"""

from __future__ import annotations

import bisect
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it.token import Token

from guidedeck.parse.jsx import Tag


@dataclass(slots=True)
class Block:
    """A block-level token and, for containers, the blocks inside it."""

    type: str
    """Token type without ``_open``: ``paragraph``, ``heading``, ``table``, ``mdx_wrapper`` ..."""
    token: Token
    """The opening token (or the only one, for leaf blocks such as ``fence``)."""
    children: list[Block] = field(default_factory=list)
    inline: Token | None = None
    """The ``inline`` token of a paragraph, heading or table cell."""

    @property
    def line(self) -> int:
        """0-based first line."""
        return self.token.map[0] if self.token.map else 0

    @property
    def end(self) -> int:
        """0-based line after the block."""
        return self.token.map[1] if self.token.map else self.line + 1

    @property
    def text(self) -> str:
        """Inline Markdown of a paragraph or heading ("" for other blocks)."""
        return self.inline.content if self.inline is not None else ""

    @property
    def tag(self) -> Tag | None:
        """The MDX tag of an ``mdx_component`` or ``mdx_wrapper``."""
        meta = self.token.meta
        tag = meta.get("tag") if isinstance(meta, dict) else None
        return tag if isinstance(tag, Tag) else None

    def walk(self) -> Iterator[Block]:
        """This block and every block inside it, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


def build_tree(tokens: list[Token]) -> list[Block]:
    """Nest the flat token list into :class:`Block` trees (one per top-level block)."""
    root: list[Block] = []
    stack: list[list[Block]] = [root]
    parents: list[Block] = []
    for token in tokens:
        if token.type == "inline":
            if parents:
                parents[-1].inline = token
            continue
        if token.nesting == 1:
            block = Block(token.type.removesuffix("_open"), token)
            stack[-1].append(block)
            parents.append(block)
            stack.append(block.children)
        elif token.nesting == -1:
            stack.pop()
            parents.pop()
        else:
            stack[-1].append(Block(token.type, token))
    return root


class Source:
    """The guide text by lines, sliced by block maps with MDX tags cut out of shared lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        self._bounds: dict[int, tuple[int, int]] = {}

    def line_end(self, line: int) -> int:
        """Offset of the end of 0-based ``line`` (its newline, or the end of the text)."""
        if line + 1 < len(self.starts):
            return self.starts[line + 1] - 1
        return len(self.text)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def clip(self, line: int, lo: int | None = None, hi: int | None = None) -> None:
        """Narrow 0-based ``line`` to offsets [lo, hi): the rest belongs to an MDX tag."""
        old_lo, old_hi = self._bounds.get(line, (self.starts[line], self.line_end(line)))
        self._bounds[line] = (max(old_lo, lo or old_lo), min(old_hi, hi or old_hi))

    def lines(self, start: int, end: int) -> str:
        """Text of 0-based lines [start, end), clipped, with common indentation removed."""
        parts = []
        for line in range(start, min(end, len(self.starts))):
            lo, hi = self._bounds.get(line, (self.starts[line], self.line_end(line)))
            parts.append(self.text[lo:hi])
        return textwrap.dedent("\n".join(parts)).strip("\n")

    def blocks(self, blocks: list[Block]) -> str:
        """Markdown of ``blocks`` joined by blank lines."""
        return "\n\n".join(s for s in (self.lines(b.line, b.end) for b in blocks) if s.strip())
