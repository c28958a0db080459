"""Where a push lands: the collection as ``push`` and ``triage`` see it, however it is reached.

A collection is reached through Anki's engine, on its file, while Anki is closed
(:class:`EngineTarget`), or through the AnkiConnect add-on while Anki runs
(:class:`guidedeck.connect_target.ConnectTarget`). Both answer the same questions in the same
terms (:class:`Target`), so the plan, the removed-note policies, deck moves and presets are
defined once, in :mod:`guidedeck.push` and :mod:`guidedeck.presets`, whichever way they travel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from guidedeck.cards import KINDS
from guidedeck.models import CardKind

DEFAULT_PRESET = 1
"""The id of Anki's Default options preset, which a new deck is given."""
DEFAULT_DECK = 1


@dataclass(frozen=True, slots=True)
class HeldCard:
    """A card of a note as the collection holds it."""

    cid: int
    deck: str
    filtered: bool
    """In a filtered deck (it goes home by itself: never moved)."""
    suspended: bool


@dataclass(frozen=True, slots=True)
class HeldNote:
    """A guidedeck note as the collection holds it."""

    nid: int
    id_field: str
    fields: tuple[str, ...]
    mtime: int | None
    """None when the way in does not say (AnkiConnect): Anki's importer still decides."""
    kind: CardKind | None
    """None: the note is not of a guidedeck notetype (any more)."""
    tags: tuple[str, ...]
    cards: tuple[HeldCard, ...]


@dataclass(frozen=True, slots=True)
class Studied:
    """A guidedeck card as the learner's reviews left it (for ``triage``)."""

    id_field: str
    fields: dict[str, str]
    lapses: int
    flag: int
    marked: bool
    leech: bool


class Target(Protocol):
    """A collection, as ``push`` and ``triage`` change and read it."""

    def notes(self, wanted: Mapping[str, str]) -> dict[str, HeldNote]:
        """The notes of ``wanted`` (GUID -> ``ID`` field) the collection holds, by GUID."""

    def deck_names(self) -> set[str]:
        """Every deck's name."""

    def import_package(self, package: Path) -> int:
        """Anki's import of an ``.apkg``; how many of its notes Anki refused."""

    def move(self, cards: Sequence[int], deck: str) -> None:
        """Put ``cards`` in ``deck`` (made if missing), keeping their reviews."""

    def remove_empty(self, decks: Iterable[str]) -> list[str]:
        """Remove those of ``decks`` that hold no card and no deck; their names."""

    def tag(self, nids: Sequence[int], tag: str) -> None: ...
    def suspend(self, cids: Sequence[int]) -> None: ...
    def delete(self, nids: Sequence[int]) -> None: ...

    def preset(self, name: str) -> dict[str, Any] | None:
        """The options preset called ``name`` (None: there is none to be seen)."""

    def on_default(self, decks: Iterable[str]) -> list[str]:
        """Those of ``decks`` that use Anki's Default preset, or do not exist yet."""

    def make_preset(self, name: str, decks: Sequence[str]) -> dict[str, Any]:
        """A new preset ``name`` (Anki's defaults), given to ``decks``."""

    def save_preset(self, conf: dict[str, Any]) -> None: ...

    def give_preset(self, decks: Sequence[str], conf: dict[str, Any]) -> None: ...

    def studied(self, lapses: int) -> list[Studied]:
        """guidedeck's cards that are flagged, marked, leeches or lapsed ``lapses`` times."""


def _chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


TROUBLE = '"note:guidedeck*" (tag:leech OR tag:marked OR -flag:0 OR prop:lapses>={lapses})'
"""An Anki search for guidedeck's cards in trouble: one definition for both ways in."""


class EngineTarget:
    """The collection file, opened with Anki's engine (Anki closed)."""

    def __init__(self, col: Any) -> None:
        self.col = col

    def notes(self, wanted: Mapping[str, str]) -> dict[str, HeldNote]:
        """By GUID, as Anki's importer finds them."""
        col, names = self.col, {d.id: d.name for d in self.col.decks.all_names_and_ids()}
        found: dict[str, HeldNote] = {}
        for chunk in _chunks(list(wanted)):
            marks = ",".join("?" * len(chunk))
            for nid, guid, mod, flds, mid, tags in col.db.all(
                f"select id, guid, mod, flds, mid, tags from notes where guid in ({marks})", *chunk
            ):
                cards = tuple(
                    HeldCard(cid, names.get(did, ""), odid != 0, queue == -1)
                    for cid, did, odid, queue in col.db.all(
                        "select id, did, odid, queue from cards where nid = ? order by ord", nid
                    )
                )
                spec = KINDS.by_model(mid)
                fields = tuple(flds.split("\x1f"))
                found[guid] = HeldNote(
                    nid, fields[0], fields, mod, spec.kind if spec else None,
                    tuple(tags.split()), cards,
                )  # fmt: skip
        return found

    def deck_names(self) -> set[str]:
        return {d.name for d in self.col.decks.all_names_and_ids()}

    def import_package(self, package: Path) -> int:
        """Anki's File > Import, with its defaults; what its log says it refused."""
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
        from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition as Condition

        # Anki's File > Import with its default options
        options = ImportAnkiPackageOptions(
            merge_notetypes=False,
            update_notes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            update_notetypes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            with_scheduling=False,
            with_deck_configs=False,
        )
        request = ImportAnkiPackageRequest(package_path=str(package), options=options)
        log = self.col.import_anki_package(request).log
        return len(log.conflicting) + len(log.missing_notetype) + len(log.empty_first_field)

    def move(self, cards: Sequence[int], deck: str) -> None:
        self.col.set_deck(list(cards), self.col.decks.id_for_name(deck) or self.col.decks.id(deck))

    def remove_empty(self, decks: Iterable[str]) -> list[str]:
        """Never the Default deck, a filtered deck, or a deck with a card or a child."""
        removed = []
        for name in sorted(set(decks)):
            deck = self.col.decks.by_name(name)
            if deck is None or deck["id"] == DEFAULT_DECK or deck.get("dyn"):
                continue
            if self.col.decks.card_count(deck["id"], True) or list(
                self.col.decks.children(deck["id"])
            ):
                continue
            self.col.decks.remove([deck["id"]])
            removed.append(name)
        return removed

    def tag(self, nids: Sequence[int], tag: str) -> None:
        self.col.tags.bulk_add(list(nids), tag)

    def suspend(self, cids: Sequence[int]) -> None:
        self.col.sched.suspend_cards(list(cids))

    def delete(self, nids: Sequence[int]) -> None:
        self.col.remove_notes(list(nids))

    def preset(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.col.decks.all_config() if c["name"] == name), None)

    def on_default(self, decks: Iterable[str]) -> list[str]:
        """Filtered decks have no preset: never listed."""
        out = []
        for name in sorted(set(decks)):
            deck = self.col.decks.by_name(name)
            if deck is None or (not deck.get("dyn") and deck.get("conf") == DEFAULT_PRESET):
                out.append(name)
        return out

    def make_preset(self, name: str, decks: Sequence[str]) -> dict[str, Any]:
        """Anki's defaults under ``name``, given to ``decks``."""
        conf: dict[str, Any] = self.col.decks.get_config(
            self.col.decks.add_config_returning_id(name)
        )
        self.give_preset(decks, conf)
        return conf

    def save_preset(self, conf: dict[str, Any]) -> None:
        self.col.decks.update_config(conf)

    def give_preset(self, decks: Sequence[str], conf: dict[str, Any]) -> None:
        """``conf`` to each of ``decks`` that exists."""
        for name in decks:
            deck = self.col.decks.by_name(name)
            if deck is not None:
                self.col.decks.set_config_id_for_deck_dict(deck, conf["id"])
                self.col.decks.save(deck)

    def studied(self, lapses: int) -> list[Studied]:
        """By Anki's own search (:data:`TROUBLE`), card by card."""
        out = []
        for cid in self.col.find_cards(TROUBLE.format(lapses=lapses)):
            card = self.col.get_card(cid)
            note = card.note()
            out.append(Studied(
                note.fields[0], dict(note.items()), card.lapses, card.user_flag(),
                note.has_tag("marked"), note.has_tag("leech"),
            ))  # fmt: skip
        return out


__all__ = ["EngineTarget", "HeldCard", "HeldNote", "Studied", "Target"]
