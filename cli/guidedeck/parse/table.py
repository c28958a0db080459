"""GFM tables for card extraction: markdown-it's own table rule, lean on tokens.

markdown-it's ``table`` rule emits eleven tokens per three-column row; a guide with a table of
20,000 rows spends most of its parse time creating them. This rule accepts and ends tables
exactly as markdown-it's does (same helpers, same terminators, same cap on padded cells) but
emits a single ``table`` token whose ``meta`` holds the rows. Only the extraction parser uses it;
rendering keeps markdown-it's rule.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.common.utils import isStrSpace
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_block.table import (
    MAX_AUTOCOMPLETED_CELLS,
    escapedSplit,
    getLine,
    headerLineRe,
)


def lean_table_plugin(md: MarkdownIt) -> None:
    """Replace markdown-it's ``table`` rule with :func:`lean_table` (``md.use(...)``)."""
    md.block.ruler.at("table", lean_table, {"alt": ["paragraph", "reference"]})


def _cells(line: str) -> list[str]:
    columns = escapedSplit(line)
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1] == "":
        columns.pop()
    return columns


def _delimiter_columns(state: StateBlock, line: int) -> int | None:
    """Number of columns of the delimiter row ``|---|:--:|``, or None if it is not one."""
    pos = state.bMarks[line] + state.tShift[line]
    end = state.eMarks[line]
    if pos + 1 >= end:
        return None
    first, second = state.src[pos], state.src[pos + 1]
    if first not in "|-:" or (second not in "|-:" and not isStrSpace(second)):
        return None
    if first == "-" and isStrSpace(second):
        return None
    if any(ch not in "|-:" and not isStrSpace(ch) for ch in state.src[pos + 2 : end]):
        return None
    columns = getLine(state, line).split("|")
    count = 0
    for n, column in enumerate(columns):
        text = column.strip()
        if not text:
            if n in (0, len(columns) - 1):
                continue
            return None
        if not headerLineRe.search(text):
            return None
        count += 1
    return count


def lean_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A GFM table as one ``table`` token; ``meta``: ``headers``, ``rows`` and ``widths``.

    ``rows`` are ``(line, cells)`` padded or cut to the header's width, as markdown-it renders
    them; ``widths`` are the cell counts as written, for reporting rows that do not fit.
    """
    if start + 2 > end:
        return False
    delimiter = start + 1
    if state.sCount[delimiter] < state.blkIndent or state.is_code_block(delimiter):
        return False
    columns = _delimiter_columns(state, delimiter)
    if columns is None:
        return False
    header_text = getLine(state, start).strip()
    if "|" not in header_text or state.is_code_block(start):
        return False
    headers = [c.strip() for c in _cells(header_text)]
    if not headers or len(headers) != columns:
        return False
    if silent:
        return True

    old_parent = state.parentType
    state.parentType = "table"
    terminators = state.md.block.ruler.getRules("blockquote")
    rows: list[tuple[int, list[str]]] = []
    widths: list[int] = []
    padded = 0
    line = start + 2
    while line < end:
        if state.sCount[line] < state.blkIndent:
            break
        if any(rule(state, line, end, True) for rule in terminators):
            break
        text = getLine(state, line).strip()
        if not text or state.is_code_block(line):
            break
        cells = _cells(text)
        padded += columns - len(cells)
        if padded > MAX_AUTOCOMPLETED_CELLS:
            break
        widths.append(len(cells))
        row = [c.strip() if c else "" for c in cells[:columns]]
        row += [""] * (columns - len(row))
        rows.append((line, row))
        line += 1
    token = state.push("table", "table", 0)
    token.map = [start, line]
    token.meta = {"headers": headers, "rows": rows, "widths": widths}
    state.parentType = old_parent
    state.line = line
    return True


__all__ = ["lean_table", "lean_table_plugin"]
