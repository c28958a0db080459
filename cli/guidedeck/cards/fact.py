"""The fact kind: one row of a table, asked about by its first cell."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from guidedeck.cards.spec import KindSpec, NotetypeSpec
from guidedeck.kinds import CardKind
from guidedeck.models import Fact, Table
from guidedeck.resources import data_dir

NOTETYPE = NotetypeSpec(
    CardKind.FACT,
    1679494788794,
    "guidedeck Fact",
    ("ID", "Guide", "Section", "Context", "Subject", "Asks", "Cells", "Table", "Source"),
    "Subject",
)
TABLE_WINDOW = 12
TABLE_WORDS = 200
"""Words of the rows a fact's back shows around its own (beside the row's own cells)."""
"""A fact's back shows its whole table up to twice this many rows, else this many either side."""


def column_name(headers: Sequence[str], n: int) -> str:
    """A column's header, or ``column N`` where the header is blank."""
    return headers[n] if n < len(headers) and headers[n].strip() else f"column {n + 1}"


_CELLS: dict[int, tuple[Table, list[str], list[int]]] = {}
"""The cells of the tables rendered last, by the table's identity (a table is rendered once per
row: its rows' cells are made once)."""


def _cells_html(table: Table) -> tuple[list[str], list[int]]:
    """Each row of ``table`` as its ``<td>`` cells, and its words."""
    from guidedeck.parse.answers import prose_words
    from guidedeck.render import inline_html

    known = _CELLS.get(id(table))
    if known is None or known[0] is not table:
        if len(_CELLS) >= 16:
            _CELLS.clear()
        rows = ["".join(f"<td>{inline_html(c)}</td>" for c in row) for row in table.rows]
        words = [prose_words(" ".join(row)) for row in table.rows]
        known = _CELLS[id(table)] = (table, rows, words)
    return known[1], known[2]


def _window(fact: Fact, words: list[int]) -> tuple[int, int]:
    """The rows shown around the fact's own: at most :data:`TABLE_WINDOW` on each side, and
    within :data:`TABLE_WORDS` words (a table of long cells shows fewer rows)."""
    row, total = fact.row, len(words)
    lo, hi = max(0, row - TABLE_WINDOW), min(total, row + TABLE_WINDOW + 1)
    if sum(words[lo:hi]) <= TABLE_WORDS:
        return lo, hi
    lo, hi, used = row, row + 1, words[row]
    while True:  # grow by a row below, then one above, while they fit
        grown = False
        for side in (hi, lo - 1):
            if row - TABLE_WINDOW <= side <= row + TABLE_WINDOW and 0 <= side < total:
                if used + words[side] > TABLE_WORDS:
                    return lo, hi
                used += words[side]
                lo, hi, grown = min(lo, side), max(hi, side + 1), True
        if not grown:
            return lo, hi


def table_html(fact: Fact) -> str:
    """The fact's table (or the rows around it), its own row marked."""
    from guidedeck.render import inline_html

    table = fact.table
    total = len(table.rows)
    cells, words = _cells_html(table)
    # only the rows around this one: a table of 20,000 rows must not make 20,000 huge cards,
    # and a phone shows a screen or two
    lo, hi = _window(fact, words)
    note = "" if (lo, hi) == (0, total) else (
        f'<p class="gd-table-note">rows {lo + 1} to {hi} of {total}</p>')  # fmt: skip
    head = "".join(f"<th>{inline_html(h)}</th>" for h in table.headers)
    body = [
        f'<tr class="gd-hit">{cells[n]}</tr>' if n == fact.row else f"<tr>{cells[n]}</tr>"
        for n in range(lo, hi)
    ]
    return (
        f'<div class="gd-table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{note}"
    )


def _subject(card: Fact) -> str:
    from guidedeck.render import inline_html

    headers = card.headers
    subject = (
        f'<span class="gd-subject-label">{inline_html(column_name(headers, 0))}</span>'
        f"{inline_html(card.cells[0]) or '—'}"
    )
    if card.given:
        subject += (
            f'<span class="gd-given"><span class="gd-subject-label">'
            f"{inline_html(column_name(headers, card.given))}</span>"
            f"{inline_html(card.cells[card.given])}</span>"
        )
    elif card.numbered:
        subject += f'<span class="gd-given">row {card.row + 1} of the table</span>'
    return subject


def fields(card: Fact, guide: Any, _shuffle: bool) -> dict[str, str]:
    """The fact's note fields."""
    from guidedeck.render import inline_html, section_html

    headers = card.headers
    asks = " · ".join(
        inline_html(column_name(headers, n)) for n in range(1, len(headers)) if n != card.given
    )
    cells = "".join(
        f'<div class="gd-cell"><dt>{inline_html(column_name(headers, n))}</dt>'
        f"<dd>{inline_html(cell) or '—'}</dd></div>"
        for n, cell in enumerate(card.cells)
        if n > 0
    )
    return {
        "Section": section_html(card),
        "Context": inline_html(card.context) or html.escape(guide.title),
        "Subject": _subject(card),
        "Asks": asks,
        "Cells": f'<dl class="gd-cells">{cells}</dl>',
        "Table": table_html(card),
    }


def as_dict(card: Fact) -> dict[str, Any]:
    """The fact for ``list --format json``."""
    data: dict[str, Any] = {
        "context": card.context, "headers": list(card.headers), "cells": list(card.cells),
    }  # fmt: skip
    if card.given or card.numbered:
        data.update(given=card.headers[card.given] if card.given else None, row=card.row + 1)
    return data


def key_name(card: Fact) -> str:
    """A fact is named by its table's heading and its row's first cell."""
    from guidedeck.slugs import slugify

    return f"{slugify(card.context)[:60]}/{slugify(card.cells[0])[:60]}"


SPEC = KindSpec(
    kind=CardKind.FACT,
    model=Fact,
    notetype=NOTETYPE,
    templates=data_dir("templates") / "fact",
    content_fields=("Subject", "Cells"),
    fields=fields,
    key_name=key_name,
    as_dict=as_dict,
    summary=lambda card: f"{card.context}: {card.cells[0]}",
    # a fact's labels are its table's headers, shared by every row: they would make rows alike
    shared_words=re.compile(r'<dt>.*?</dt>|<span class="gd-subject-label">.*?</span>', re.S),
)
