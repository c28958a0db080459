"""genanki objects with identities under our control, written deterministically and atomically.

genanki numbers notes and cards from the clock and stamps everything with one build time. Anki,
though, decides by each note's mtime whether to apply an update, and finds removed notes by id, so
notes here carry their own id and mtime; cards take their note's id (one card per note). The
``.apkg`` zip is written with fixed entry dates so the same input gives the same bytes.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki

from guidedeck.models import CardKind
from guidedeck.notetypes import NotetypeDesign, design
from guidedeck.ownership import MARK
from guidedeck.transaction import temporary_name, write_temporary

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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


@dataclass(frozen=True, slots=True)
class NoteData:
    """Everything one note needs: its notetype, fields, tags and identity."""

    kind: CardKind
    fields: dict[str, str]
    tags: tuple[str, ...]
    guid: str
    note_id: int
    mtime: int


@dataclass(frozen=True, slots=True)
class DeckData:
    """A deck and its notes, in review order."""

    deck_id: int
    name: str
    description: str
    notes: tuple[NoteData, ...]


def make_package(decks: Sequence[DeckData], notetype_mtimes: Mapping[str, int]) -> genanki.Package:
    """genanki objects for ``decks``; notetypes get the given mtimes."""
    models = {kind: GuideModel(design(kind), mtime) for kind, mtime in notetype_mtimes.items()}
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


def package_bytes(
    package: genanki.Package,
    timestamp: int,
    media: Mapping[str, Path] | None = None,
    mark: bytes | None = None,
) -> bytes:
    """The ``.apkg`` file content: the same package, timestamp and media give the same bytes.

    ``media`` maps each image's name in the collection to its file (Anki's package format:
    files stored as ``0``, ``1`` ... and a ``media`` JSON naming them); ``mark``: guidedeck's
    mark of its own decks (:mod:`guidedeck.ownership`), a member Anki's importers skip.
    """
    media = dict(sorted((media or {}).items()))
    with tempfile.TemporaryDirectory(prefix="guidedeck-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(db_path)
        try:
            # a throw-away file: no journal on disk, no sync (the same bytes, 13 times faster)
            conn.execute("pragma journal_mode = memory")
            conn.execute("pragma synchronous = off")
            package.write_to_db(conn.cursor(), timestamp, iter(()))
            conn.commit()
        finally:
            conn.close()
        database = db_path.read_bytes()
    names = {str(n): name for n, name in enumerate(media)}
    entries: list[tuple[str, bytes]] = [
        ("collection.anki2", database),
        ("media", json.dumps(names, sort_keys=True).encode()),
    ]
    entries += [(number, media[name].read_bytes()) for number, name in names.items()]
    if mark is not None:
        entries.append((MARK, mark))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    A crash or a full disk leaves the previous file untouched: the rename is the only moment the
    target changes, and it happens only once the new content is safely on disk.
    """
    # a write killed earlier may have left its temporary file behind: it was never the file
    for stale in path.parent.glob(temporary_name(path)):
        stale.unlink(missing_ok=True)
    tmp = write_temporary(path, data)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
