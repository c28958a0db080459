"""Deep nesting without losing the rest of the guide.

Past ``maxNesting`` levels (block quotes in block quotes, lists in lists), markdown-it stops
reading and jumps to the end of the range it was given; for a list item that range is the rest of
the document, so everything after a list nested too deeply would silently vanish. This plugin
skips only the lines that belong to the too-deep container and leaves a ``nesting_error`` token
(``map``: the lines skipped) so the skip can be reported.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock


class _GuardedParserBlock(ParserBlock):
    def tokenize(self, state: StateBlock, start_line: int, end_line: int) -> None:
        """Tokenize as markdown-it does; at the nesting limit skip the container, not the rest."""
        line = state.skipEmptyLines(start_line)
        if line < end_line and state.level >= state.md.options.maxNesting:
            stop = line
            while stop < end_line and (
                state.isEmpty(stop) or state.sCount[stop] >= state.blkIndent
            ):
                stop += 1
            token = state.push("nesting_error", "", 0)
            token.map = [line, stop]
            state.line = stop
            return
        super().tokenize(state, start_line, end_line)


def nesting_guard_plugin(md: MarkdownIt) -> None:
    """Make ``md`` skip only the too-deeply nested container (``md.use(...)``)."""
    md.block.__class__ = _GuardedParserBlock
