"""Decks judged by the real Anki engine (PyPI ``anki``): import, render every card, inspect."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from guidedeck.cards import KINDS
from guidedeck.highlight import lexer_for
from guidedeck.preview import card_sides

GUIDEDECK_NOTETYPES = {spec.notetype.name for spec in KINDS.values()}
TEMPLATE_PROBLEM = "template has a problem"


@dataclass
class Rendered:
    """One card as Anki renders it."""

    note_id: int
    notetype: str
    fields: dict[str, str]
    question: str
    answer: str
    due: int
    """New-card position: the card's order in its guide."""


def fresh_collection(folder: Path) -> Collection:
    """A new, empty Anki collection in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_package(col: Collection, apkg: Path) -> Any:
    """Import with Anki's defaults (update notes and notetypes if newer); return the import log."""
    request = ImportAnkiPackageRequest(
        package_path=str(apkg), options=ImportAnkiPackageOptions(with_scheduling=False)
    )
    return col.import_anki_package(request).log


def notetype(col: Collection, model_id: int) -> dict[str, Any]:
    """A notetype as stored now (``col.models`` caches dicts that an import does not refresh)."""
    data: dict[str, Any] = json.loads(col._backend.get_notetype_legacy(model_id))
    return data


def render_all(col: Collection) -> list[Rendered]:
    """Every card of the collection, rendered front and back."""
    out = []
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        note = card.note()
        output = card.render_output()
        out.append(
            Rendered(
                note.id,
                note.note_type()["name"],
                dict(note.items()),
                output.question_text,
                output.answer_text,
                card.due,
            )
        )
    return out


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(fragment: str) -> str:
    """The text a reader sees in an HTML fragment (``<style>`` content excluded)."""
    fragment = re.sub(r"<style\b.*?</style>", "", fragment, flags=re.S | re.I)
    parser = _Text()
    parser.feed(fragment)
    return " ".join("".join(parser.parts).split())


def assert_healthy_import(
    col: Collection, log: Any, expected_notes: int, in_collection: int | None = None
) -> list[Rendered]:
    """The checks every built deck must pass in Anki; returns the rendered cards.

    ``expected_notes`` is how many notes the package holds; ``in_collection`` how many the
    collection should hold after the import (default: the same).
    """
    in_collection = expected_notes if in_collection is None else in_collection
    assert len(log.conflicting) == 0, "notes conflicted with existing ones"
    assert len(log.new) + len(log.updated) + len(log.duplicate) == expected_notes
    names = [m.name for m in col.models.all_names_and_ids()]
    ours = [n for n in names if n.startswith("guidedeck")]
    assert set(ours) <= GUIDEDECK_NOTETYPES, f"notetype copies were made: {ours}"
    assert len(ours) == len(set(ours))
    empty = col.get_empty_cards()
    assert not list(empty.notes), "Anki reports empty cards"
    cards = render_all(col)
    assert len(cards) == col.note_count() == in_collection
    first_fields: Counter[tuple[str, str]] = Counter()
    for card in cards:
        where = f"{card.notetype} {card.fields.get('Source')}"
        assert TEMPLATE_PROBLEM not in card.question, where
        assert TEMPLATE_PROBLEM not in card.answer, where
        assert visible_text(card.question), f"empty front: {where}"
        assert visible_text(card.answer), f"empty back: {where}"
        first_fields[(card.notetype, next(iter(card.fields.values())))] += 1
        if card.notetype == "guidedeck Quiz":
            assert_quiz_back(card)
    repeated = [k for k, v in first_fields.items() if v > 1]
    assert not repeated, f"notes share a first field: {repeated}"
    assert_fronts_tell_cards_apart(cards)
    assert_code_highlighted(cards)
    assert_preview_matches_anki(cards)
    return cards


def assert_fronts_tell_cards_apart(cards: list[Rendered]) -> None:
    """No two cards of a deck show one front while asking for different answers."""
    backs: dict[str, set[str]] = {}
    sources: dict[str, list[str]] = {}
    for card in cards:
        front = visible_text(card.question)
        backs.setdefault(front, set()).add(visible_text(card.answer))
        sources.setdefault(front, []).append(card.fields.get("Source", ""))
    alike = {f: sources[f] for f, b in backs.items() if len(b) > 1}
    assert not alike, f"cards share a front but not an answer: {alike}"


def _has_tokens(lexer: Any, body: str) -> bool:
    """Whether Pygments finds anything to colour in a block (a lone word is plain text)."""
    from pygments.token import Text

    text = html.unescape(re.sub(r"<[^>]+>", "", body))
    return any(kind not in Text for kind, value in lexer.get_tokens(text) if value.strip())


_CODE = re.compile(r'<pre class="gd-code" data-lang="([^"]*)"><code>(.*?)</code></pre>', re.S)


def assert_code_highlighted(cards: list[Rendered]) -> None:
    """Every code block that names a language Pygments knows carries its token classes;
    a block without a language is plain escaped text."""
    for card in cards:
        for side in (card.question, card.answer):
            for language, body in _CODE.findall(side):
                where = f"{card.fields.get('Source')} ({language or 'no language'})"
                lexer = lexer_for(language) if language else None
                if lexer is not None and body.strip() and _has_tokens(lexer, body):
                    assert '<span class="gd-' in body, where
                elif not language:
                    assert "<span" not in body, where


KINDS_BY_NOTETYPE = {spec.notetype.name: spec.kind for spec in KINDS.values()}


def assert_preview_matches_anki(cards: list[Rendered]) -> None:
    """guidedeck's own template rendering (used by ``preview``) gives exactly Anki's output."""
    for card in cards:
        front, back = card_sides(KINDS_BY_NOTETYPE[card.notetype], card.fields)
        assert front == card.question, card.fields.get("Source")
        assert back == card.answer, card.fields.get("Source")


def assert_quiz_back(card: Rendered) -> None:
    """The back names the correct option (marked, not by colour alone) and explains it."""
    letter = card.fields["Answer"]
    assert re.fullmatch(r"[A-H]", letter), card.fields["Source"]
    assert f"gd-answer-{letter}" in card.answer
    assert f"Answer: {letter}" in visible_text(card.answer)
    assert f"gd-option-{letter}" in card.answer
    explanation = visible_text(card.fields["Explanation"])
    if explanation:
        assert explanation in visible_text(card.answer)


def assert_every_deck_imports(decks: Iterable[Path], workdir: Path, seen: set[str]) -> None:
    """Each deck not in ``seen`` (digests) imported into a fresh collection and every card
    rendered, with the checks of :func:`assert_healthy_import`."""
    import hashlib

    from guidedeck.memory import read_deck

    for deck in decks:
        digest = hashlib.sha256(deck.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        col = fresh_collection(workdir / f"anki-{len(seen)}")
        try:
            assert_healthy_import(col, import_package(col, deck), len(read_deck(deck)))
        finally:
            col.close()
