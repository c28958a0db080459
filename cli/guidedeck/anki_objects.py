"""genanki's objects with identities under our control (:mod:`guidedeck.package` writes them).

genanki numbers notes and cards from the clock and stamps everything with one build time. Anki,
though, decides by each note's mtime whether to apply an update, and finds removed notes by id, so
notes here carry their own id and mtime; cards take their note's id (one card per note).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import genanki

from guidedeck.notetypes import NotetypeDesign, design
from guidedeck.package import DeckData


class GuideModel(genanki.Model):  # type: ignore[misc]
    """A genanki model whose JSON carries fixed field/template ids and its own mtime."""

    def __init__(self, notetype: NotetypeDesign, mtime: int) -> None:
        spec = notetype.spec
        super().__init__(
            model_id=spec.model_id,
            name=spec.name,
            fields=[{"name": name, "id": spec.field_id(n)} for n, name in enumerate(spec.fields)],
            templates=[
                {
                    "name": spec.template,
                    "qfmt": notetype.front,
                    "afmt": notetype.back,
                    "id": spec.template_id,
                }
            ],
            css=notetype.css,
            sort_field_index=spec.fields.index(spec.sort_field),
        )
        self.mtime = mtime

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json(timestamp, deck_id)
        data["mod"] = self.mtime
        return data


class GuideNote(genanki.Note):  # type: ignore[misc]
    """A note with a fixed id and mtime; its one card gets the same id and a due position."""

    def __init__(
        self,
        model: GuideModel,
        fields: list[str],
        tags: list[str],
        guid: str,
        note_id: int,
        mtime: int,
        due: int,
    ) -> None:
        super().__init__(model=model, fields=fields, tags=tags, guid=guid, due=due)
        self.note_id = note_id
        self.mtime = mtime

    def write_to_db(
        self, cursor: sqlite3.Cursor, timestamp: float, deck_id: int, id_gen: Any
    ) -> None:
        self._check_number_model_fields_matches_num_fields()
        cursor.execute(
            "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);",
            (self.note_id, self.guid, self.model.model_id, self.mtime, -1, self._format_tags(),
             self._format_fields(), self.sort_field, 0, 0, ""),
        )  # fmt: skip
        cursor.execute(
            "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);",
            (self.note_id, self.note_id, deck_id, 0, self.mtime, -1, 0, 0, self.due,
             0, 0, 0, 0, 0, 0, 0, 0, ""),
        )  # fmt: skip


@lru_cache(maxsize=64)
def guide_model(notetype: NotetypeDesign, mtime: int) -> GuideModel:
    """The model of ``notetype`` at ``mtime``, made once: genanki works out which fields a
    template requires by rendering it once per field (a tenth of a first build's packaging when
    every package made its models anew). Keyed by the design itself, not its kind's name: a
    kind's design may be read again (and differ) in one process."""
    return GuideModel(notetype, mtime)


def make_package(decks: Sequence[DeckData], notetype_mtimes: Mapping[str, int]) -> genanki.Package:
    """genanki objects for ``decks``; notetypes get the given mtimes."""
    models = {kind: guide_model(design(kind), mtime) for kind, mtime in notetype_mtimes.items()}
    built = []
    for deck in decks:
        gdeck = genanki.Deck(deck.deck_id, deck.name, deck.description)
        for due, note in enumerate(deck.notes):
            spec = models[note.kind]
            values = [note.fields[name] for name in design(note.kind).spec.fields]
            gdeck.add_note(
                GuideNote(spec, values, list(note.tags), note.guid, note.note_id, note.mtime, due)
            )
        built.append(gdeck)
    return genanki.Package(built)
