"""Decks as data (notes with their identities), packaged deterministically and written atomically.

The genanki objects are :mod:`guidedeck.anki_objects`'. The ``.apkg`` zip is written with fixed
entry dates so the same input gives the same bytes.
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

from guidedeck.models import CardKind
from guidedeck.ownership import MARK
from guidedeck.transaction import temporary_name, write_temporary

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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


def make_package(decks: Sequence[DeckData], notetype_mtimes: Mapping[str, int]) -> Any:
    """genanki objects for ``decks``; notetypes get the given mtimes
    (:func:`guidedeck.anki_objects.make_package`, loaded when a deck is first packaged: genanki
    loads asyncio, which a build that packages no deck never needs)."""
    from guidedeck.anki_objects import make_package as make

    return make(decks, notetype_mtimes)


def package_bytes(
    package: Any,
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
