"""A markdown-it plugin for the MDX the guides use.

Block rules it adds, each emitting tokens with ``.map`` like markdown-it's own:

- ``mdx_component`` for a self-closing ``<Name .../>`` (``token.meta["tag"]`` is a :class:`Tag`);
- ``mdx_wrapper_open`` / ``mdx_wrapper_close`` around ``<Name ...>children</Name>``, the children
  parsed as ordinary Markdown (fences, tables, lists, nested components), tags on their own lines or
  sharing a line with the children;
- ``mdx_error`` where a tag cannot be read (``meta``: ``message``, ``pos``), reported as a warning;
- ``front_matter`` for a leading ``---`` YAML block, ``mdx_esm`` for ``import``/``export`` lines and
  ``mdx_expression`` for a ``{...}`` block such as ``{/* comment */}``.

A component is any tag whose name starts with a capital letter, as in MDX. Lines inside fenced code
never reach these rules, so code that merely shows a component is never one.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from guidedeck.parse.jsx import MAX_TAG_LINES, JsxError, Tag, scan_expression, scan_tag

_OPENER = re.compile(r"<(/?)([A-Z][\w$.:-]*)")
_ANY_OPENER = re.compile(r"<([A-Z][\w$.:-]*)(?=[\s/>])")
_ANY_CLOSER = re.compile(r"</([A-Z][\w$.:-]*)\s*>")
_ESM = re.compile(
    r"(?:import\s+(?:[\w*{]|['\"])|export\s+(?:const|let|var|function|default|async|class|\{|\*))"
)
MAX_EXPRESSION_LINES = 20
"""A ``{...}`` block longer than this is left to the paragraph rule: such blocks are comments."""

_INTERRUPTS = ["paragraph", "reference", "blockquote", "list"]


def mdx_plugin(md: MarkdownIt) -> None:
    """Add the MDX block rules to ``md`` (``md.use(mdx_plugin)``)."""
    md.block.ruler.before("table", "front_matter", _front_matter)
    md.block.ruler.before("html_block", "mdx_component", _component, {"alt": _INTERRUPTS})
    md.block.ruler.before("html_block", "mdx_esm", _esm)
    md.block.ruler.before("html_block", "mdx_expression", _expression)


_LEAD = re.compile(r"[ \t>]*")


@dataclass
class _Index:
    """Where every component name opens and closes at a line's edge, and how they pair up.

    Built once per document: openers are tags that start a line (after indentation and block
    quote markers), closers are ``</Name>`` at either end of a line or after an opener on its line.
    Pairing them with a stack, like brackets, gives every opener its closer in one sweep, so
    finding closers stays linear however unbalanced the guide is.
    """

    src: str
    line_starts: list[int]
    openers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    closers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    paired: dict[str, dict[int, int]] = field(default_factory=dict)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) - 1

    def line_bounds(self, line: int) -> tuple[int, int]:
        start = self.line_starts[line]
        nxt = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.src)
        return start, nxt

    def closer_for(self, name: str, opener: int) -> int | None:
        """Offset of the ``</Name>`` that closes the wrapper opened at offset ``opener``."""
        if name not in self.paired:
            self.paired[name] = self._pair(name)
        return self.paired[name].get(opener)

    def _pair(self, name: str) -> dict[int, int]:
        events = sorted([(o, 1) for o in self.openers.get(name, [])] +
                        [(c, -1) for c in self.closers.get(name, [])])  # fmt: skip
        stack: list[int] = []
        pairs: dict[int, int] = {}
        for offset, kind in events:
            if kind == 1:
                if self._opens_wrapper(offset):
                    stack.append(offset)
            elif stack:
                pairs[stack.pop()] = offset
        return pairs

    def _opens_wrapper(self, offset: int) -> bool:
        line = self.line_of(offset)
        limit = self.line_bounds(min(line + MAX_TAG_LINES, len(self.line_starts)) - 1)[1]
        try:
            return not scan_tag(self.src, offset, limit).self_closing
        except JsxError:
            return False


def _index(state: StateBlock) -> _Index:
    found = state.env.get("_mdx_index")
    if isinstance(found, _Index):
        return found
    src = state.src
    starts = [0]
    pos = src.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = src.find("\n", pos + 1)
    index = _Index(src, starts)
    opener_lines: dict[str, set[int]] = defaultdict(set)
    for m in _ANY_OPENER.finditer(src):
        line = index.line_of(m.start())
        lo, _ = index.line_bounds(line)
        if _LEAD.match(src, lo).end() == m.start():  # type: ignore[union-attr]
            index.openers[m.group(1)].append(m.start())
            opener_lines[m.group(1)].add(line)
    for m in _ANY_CLOSER.finditer(src):
        name = m.group(1)
        line = index.line_of(m.start())
        lo, hi = index.line_bounds(line)
        at_start = _LEAD.match(src, lo).end() == m.start()  # type: ignore[union-attr]
        at_end = not src[m.end() : hi].strip()
        if at_start or at_end or line in opener_lines[name]:
            index.closers[name].append(m.start())
    state.env["_mdx_index"] = index
    return index


def _line_text(state: StateBlock, line: int) -> tuple[int, str]:
    pos = state.bMarks[line] + state.tShift[line]
    return pos, state.src[pos : state.eMarks[line]]


def _push_error(state: StateBlock, start: int, end: int, message: str, pos: int) -> None:
    token = state.push("mdx_error", "", 0)
    token.map = [start, end]
    token.meta = {"message": message, "pos": pos}


def _limit(state: StateBlock, start: int, end: int) -> int:
    return state.eMarks[min(start + MAX_TAG_LINES, end) - 1]


def _component(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start):
        return False
    pos, text = _line_text(state, start)
    m = _OPENER.match(text)
    if m is None:
        return False
    if silent:
        return True
    index = _index(state)
    name = m.group(2)
    if m.group(1):
        _push_error(state, start, start + 1, f"</{name}> closes a component that is not open", pos)
        state.line = start + 1
        return True
    try:
        tag = scan_tag(state.src, pos, _limit(state, start, end))
    except JsxError as err:
        stop = min(max(index.line_of(max(err.resume - 1, pos)) + 1, start + 1), end)
        skipped = stop - start
        where = f"; {skipped} lines skipped" if skipped > 1 else "; skipped"
        _push_error(state, start, stop, f"{err.message}{where}", err.pos)
        state.line = stop
        return True
    tag_end_line = index.line_of(tag.end - 1)
    if tag.self_closing:
        token = state.push("mdx_component", "", 0)
        token.map = [start, tag_end_line + 1]
        token.meta = {"tag": tag}
        state.line = tag_end_line + 1
        return True
    closer = _find_closer(index, tag, end)
    if closer is None:
        _push_error(
            state,
            start,
            tag_end_line + 1,
            f"<{name}> is never closed with </{name}>; its tag is ignored",
            pos,
        )
        # The children still count: carry on right after the opening tag.
        state.line = tag_end_line + 1
        return True
    close_line, close_pos = closer
    _wrap(state, tag, start, tag_end_line, close_line, close_pos)
    return True


def _find_closer(index: _Index, tag: Tag, end: int) -> tuple[int, int] | None:
    """The line and offset of the ``</Name>`` matching ``tag`` inside the current container."""
    offset = index.closer_for(tag.name, tag.start)
    if offset is None or offset < tag.end:
        return None
    line = index.line_of(offset)
    return (line, offset) if line < end else None


def _wrap(
    state: StateBlock, tag: Tag, start: int, tag_end_line: int, close_line: int, close_pos: int
) -> None:
    """Emit the wrapper tokens and parse the children between the tags as Markdown."""
    saved: list[tuple[int, int, int, int, int, int]] = []

    def save(line: int) -> None:
        saved.append(
            (
                line,
                state.bMarks[line],
                state.eMarks[line],
                state.tShift[line],
                state.sCount[line],
                state.bsCount[line],
            )
        )

    body_start = tag_end_line
    rest = state.src[tag.end : state.eMarks[tag_end_line]]
    if not rest.strip() or (
        tag_end_line == close_line and not state.src[tag.end : close_pos].strip()
    ):
        body_start = tag_end_line + 1
    else:
        save(tag_end_line)
        ws = len(rest) - len(rest.lstrip(" \t"))
        state.bMarks[tag_end_line] = tag.end
        state.tShift[tag_end_line] = ws
        state.sCount[tag_end_line] = state.blkIndent + ws
        state.bsCount[tag_end_line] = 0
    body_end = close_line
    if close_pos > state.bMarks[close_line] + state.tShift[close_line]:
        if not saved or saved[-1][0] != close_line:
            save(close_line)
        state.eMarks[close_line] = close_pos
        body_end = close_line + 1
    body_start = min(body_start, body_end)

    old_max, old_parent = state.lineMax, state.parentType
    token = state.push("mdx_wrapper_open", "", 1)
    token.map = [start, close_line + 1]
    token.meta = {"tag": tag, "body": [body_start, body_end]}
    state.lineMax = body_end
    state.parentType = "mdx"
    state.md.block.tokenize(state, body_start, body_end)
    state.lineMax, state.parentType = old_max, old_parent
    state.push("mdx_wrapper_close", "", -1)
    for line, b, e, t, s, bs in saved:
        state.bMarks[line], state.eMarks[line], state.tShift[line] = b, e, t
        state.sCount[line], state.bsCount[line] = s, bs
    state.line = close_line + 1


def _front_matter(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if start != 0 or state.blkIndent != 0 or state.src[: state.eMarks[0]].rstrip() != "---":
        return False
    for line in range(1, end):
        text = state.src[state.bMarks[line] : state.eMarks[line]].rstrip()
        if text in ("---", "..."):
            if silent:
                return True
            token = state.push("front_matter", "", 0)
            token.map = [0, line + 1]
            token.content = state.src[state.eMarks[0] + 1 : state.bMarks[line]]
            state.line = line + 1
            return True
    return False


def _esm(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.blkIndent != 0 or state.sCount[start] != 0 or state.level != 0:
        return False
    _, text = _line_text(state, start)
    if not _ESM.match(text):
        return False
    if silent:
        return True
    line = start + 1
    while line < end and not state.isEmpty(line):
        line += 1
    token = state.push("mdx_esm", "", 0)
    token.map = [start, line]
    token.content = state.getLines(start, line, 0, False)
    state.line = line
    return True


def _expression(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start):
        return False
    pos, text = _line_text(state, start)
    if not text.startswith("{"):
        return False
    limit = state.eMarks[min(start + MAX_EXPRESSION_LINES, end) - 1]
    try:
        stop = scan_expression(state.src, pos, limit)
    except JsxError:
        return False
    index = _index(state)
    last = index.line_of(stop - 1)
    if state.src[stop : state.eMarks[last]].strip():
        return False
    if silent:
        return True
    token = state.push("mdx_expression", "", 0)
    token.map = [start, last + 1]
    token.content = state.src[pos:stop]
    state.line = last + 1
    return True
