"""GFM tables: each row with two or more filled cells is a fact card.

Tables are read wherever they stand (in quotes, lists, code runners, a Quick Check), except
inside a component another rule reads whole, and never a table of contents or an index.
"""

from __future__ import annotations

import re
from dataclasses import replace

from guidedeck.models import Fact, Table
from guidedeck.parse.blocks import Block
from guidedeck.parse.family.state import Rule, State, Visited
from guidedeck.parse.sections import is_runner

OVERVIEW_HEADING = "questions overview"
_LOCAL_LINK = re.compile(
    r"\]\((?![a-z][a-z0-9+.-]*:)[^)]*\)|href=[\"'](?![a-z][a-z0-9+.-]*:)", re.I
)
_HIDDEN = re.compile(
    r"<(script|style|svg|iframe|object|embed|math|template|noscript|textarea|select)\b.*?"
    r"(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]*>")
_EMPHASIS = re.compile(r"[*_`~]")


def _tables(state: State) -> None:
    """Facts of every table the walk passed, in the order they stand."""
    for seen in state.visited:
        block = seen.block
        if block.type in ("mdx_component", "mdx_wrapper") and not is_runner(block):
            continue  # a known component's content is its own rule's
        for inner in block.walk():
            if inner.type == "table":
                _table(state, inner, seen)
    _tell_rows_apart(state)


def _table(state: State, block: Block, seen: Visited) -> None:
    if seen.heading.strip().lower() == OVERVIEW_HEADING:
        return
    meta = block.token.meta
    if is_index(meta["rows"]):
        return  # a table of contents: links to anchors or files, nothing to learn
    loc = state.loc(block.line)
    headers = tuple(state.cap(h, loc) for h in meta["headers"])
    lines = [line for line, _ in meta["rows"]]
    body = [tuple(state.cap(c, loc) for c in cells) for _, cells in meta["rows"]]
    table = Table(loc, headers, tuple(body))
    for n, (line, width) in enumerate(zip(lines, meta["widths"], strict=True)):
        if width != len(headers):
            state.warning(
                state.loc(line),
                f"table row has {width} cells but its header has {len(headers)}; row skipped",
            )
            continue
        if sum(1 for c in body[n] if c) < 2:
            if any(body[n]):
                state.warning(
                    state.loc(line),
                    "table row has only one filled cell: nothing to ask; row skipped",
                )
            continue
        state.out.facts.append(Fact(state.loc(line), table, n, seen.heading, seen.question))


def _tell_rows_apart(state: State) -> None:
    """Rows of one table that share their first cell would make cards with one front: show a
    column that tells them apart, else number them."""
    facts = state.out.facts
    groups: dict[tuple[int, str], list[int]] = {}
    for n, fact in enumerate(facts):
        groups.setdefault((id(fact.table), shown_words(fact.cells[0])), []).append(n)
    for members in groups.values():
        if len(members) < 2:
            continue
        rows = [facts[n] for n in members]
        width = len(rows[0].headers)
        given = next(
            (
                c
                for c in range(1, width - 1)
                if all(r.cells[c].strip() for r in rows)
                and len({shown_words(r.cells[c]) for r in rows}) == len(rows)
            ),
            0,
        )
        for n, fact in zip(members, rows, strict=True):
            facts[n] = replace(fact, given=given, numbered=not given)


def is_index(rows: list[tuple[int, tuple[str, ...]]]) -> bool:
    """Whether most rows of a table link to a place in the guide or to another file: a table of
    contents or an index, which makes no cards."""
    linking = sum(1 for _line, cells in rows if any(_LOCAL_LINK.search(c) for c in cells))
    return bool(rows) and linking * 2 > len(rows)


def shown_words(cell: str) -> str:
    """The words a reader will see of a cell: markup, and what the sanitizer drops whole
    (scripts, styles, SVG), left out; so two cells that look alike on a card count as alike."""
    text = _TAG.sub(" ", _HIDDEN.sub(" ", cell))
    return " ".join(_EMPHASIS.sub("", text).lower().split())


RULE = Rule("tables", finish=_tables)

__all__ = ["OVERVIEW_HEADING", "RULE", "is_index", "shown_words"]
