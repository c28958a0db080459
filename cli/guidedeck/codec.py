"""Plain-data forms of what the cache keeps and the worker processes hand back.

Nothing read from disk is unpickled: a prepared guide, the notes read back from a deck and a
parsed lock file are written as JSON (compressed) and read back through constructors that check
every value's type. A value of the wrong shape is a :class:`CodecError` (for the cache: a miss).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidedeck.diagnostics import Diagnostic, Severity, SourceLoc
from guidedeck.identity import Candidate
from guidedeck.kinds import CardKind
from guidedeck.lockfile import Lock, NoteEntry, NotetypeEntry

if TYPE_CHECKING:  # the prepare stage packs with this module: it is imported where used
    from guidedeck.prepare import Prepared, RenderedCard

MAX_UNPACKED = 256 * 1024 * 1024
"""The most a packed value may inflate to (a guide's prepared cards are a few MB at most)."""


class CodecError(ValueError):
    """Packed bytes that are not a value of the expected shape."""


def _dump(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def _load(packed: bytes) -> Any:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_UNPACKED)
        if inflater.unconsumed_tail:
            raise CodecError("packed value too large")
        return json.loads(raw.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(str(exc)) from None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise CodecError(f"expected text, not {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CodecError(f"expected a whole number, not {type(value).__name__}")
    return value


def _list(value: Any, size: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (size is not None and len(value) != size):
        raise CodecError("expected a list" + (f" of {size}" if size is not None else ""))
    return value


def _texts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise CodecError("expected an object")
    return {_str(k): _str(v) for k, v in value.items()}


# --- prepared guides -----------------------------------------------------------------------------


def _diagnostic(d: Diagnostic) -> list[Any]:
    return [d.loc.path, d.loc.line, d.loc.col, d.severity.value, d.message]


def _read_diagnostic(value: Any) -> Diagnostic:
    path, line, col, severity, message = _list(value, 5)
    try:
        level = Severity(_str(severity))
    except ValueError:
        raise CodecError("unknown severity") from None
    return Diagnostic(SourceLoc(_str(path), _int(line), _int(col)), level, _str(message))


def _candidate(card: RenderedCard) -> list[Any]:
    c = card.candidate
    return [card.kind.value, c.kind, c.key, c.pos, c.chash, c.text]


def _read_candidate(value: Any) -> tuple[CardKind, Candidate]:
    kind, ckind, key, pos, chash, text = _list(value, 6)
    candidate = Candidate(_str(ckind), _str(key), _int(pos), _str(chash), _str(text))
    return CardKind(_str(kind)), candidate


def _read_card(value: Any, outline: tuple[CardKind, Candidate]) -> RenderedCard:
    from guidedeck.prepare import RenderedCard

    fields, tags, fhash, source = _list(value, 4)
    return RenderedCard(outline[0], _texts(fields), tuple(_str(t) for t in _list(tags)),
                        _str(fhash), outline[1], _str(source))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outline:
    """What matching needs of a prepared guide: its problems, title and card candidates (the
    cards' fields, most of a guide's size, are left packed)."""

    diagnostics: tuple[Diagnostic, ...]
    title: str
    usable: bool
    cards: list[tuple[CardKind, Candidate]]


def pack_prepared(ready: Prepared) -> bytes:
    """A prepared guide as compressed JSON, in two parts: its outline, then its cards' fields
    (its card models, if any, are left out)."""
    head = _dump({
        "path": str(ready.path),
        "diagnostics": [_diagnostic(d) for d in ready.diagnostics],
        "title": ready.title,
        "slug": ready.slug,
        "cards": [_candidate(c) for c in ready.cards],
        "usable": ready.usable,
        "media": {name: str(p) for name, p in ready.media.items()},
        "deps": ready.deps,
    })  # fmt: skip
    body = _dump([[c.fields, list(c.tags), c.fhash, c.source] for c in ready.cards])
    return len(head).to_bytes(4, "big") + head + body


def _parts(packed: bytes) -> tuple[dict[str, Any], bytes]:
    size = int.from_bytes(packed[:4], "big")
    if len(packed) < 4 + size:
        raise CodecError("not a prepared guide")
    data = _load(packed[4 : 4 + size])
    if not isinstance(data, dict) or not isinstance(data.get("usable"), bool):
        raise CodecError("not a prepared guide")
    return data, packed[4 + size :]


def unpack_outline(packed: bytes) -> Outline:
    """The outline of the prepared guide :func:`pack_prepared` made ``packed`` from."""
    data, _body = _parts(packed)
    try:
        return Outline(
            tuple(_read_diagnostic(d) for d in _list(data["diagnostics"])),
            _str(data["title"]),
            data["usable"],
            [_read_candidate(c) for c in _list(data["cards"])],
        )
    except KeyError as exc:
        raise CodecError(f"lacks {exc}") from None


def unpack_prepared(packed: bytes) -> Prepared:
    """The prepared guide :func:`pack_prepared` made ``packed`` from."""
    from guidedeck.prepare import Prepared

    data, body = _parts(packed)
    try:
        outline = [_read_candidate(c) for c in _list(data["cards"])]
        cards = _list(_load(body), len(outline))
        return Prepared(
            Path(_str(data["path"])),
            tuple(_read_diagnostic(d) for d in _list(data["diagnostics"])),
            _str(data["title"]),
            _str(data["slug"]),
            [_read_card(c, o) for c, o in zip(cards, outline, strict=True)],
            data["usable"],
            {name: Path(p) for name, p in _texts(data["media"]).items()},
            _texts(data["deps"]),
        )
    except KeyError as exc:
        raise CodecError(f"lacks {exc}") from None


# --- notes read back from decks, and lock files ---------------------------------------------


def _entry(e: NoteEntry) -> list[Any]:
    return [e.id, e.guid, e.nid, e.kind, e.model, e.key, e.pos, e.mtime, e.fhash, e.chash, e.text]


def _read_entry(value: Any) -> NoteEntry:
    id_, guid, nid, kind, model, key, pos, mtime, fhash, chash, text = _list(value, 11)
    return NoteEntry(_str(id_), _str(guid), _int(nid), _str(kind), _int(model), _str(key),
                     _int(pos), _int(mtime), _str(fhash), _str(chash), _str(text))  # fmt: skip


DeckRecords = list[tuple[NoteEntry, str, str]]
"""Each note of a deck as a lock entry, with its guide's file name and its deck's name."""


def pack_records(records: DeckRecords) -> bytes:
    """What was read of a deck, as compressed JSON."""
    return _dump([[_entry(e), name, deck] for e, name, deck in records])


def unpack_records(packed: bytes) -> DeckRecords:
    """The records :func:`pack_records` made ``packed`` from."""
    out = []
    for item in _list(_load(packed)):
        entry, name, deck = _list(item, 3)
        out.append((_read_entry(entry), _str(name), _str(deck)))
    return out


def pack_lock(lock: Lock) -> bytes:
    """A parsed lock file as compressed JSON."""
    types = {k: [t.model_id, t.schema, t.design, t.mtime] for k, t in lock.notetypes.items()}
    return _dump([lock.guide, types, [_entry(e) for e in lock.notes],
                  [_entry(e) for e in lock.removed]])  # fmt: skip


def unpack_lock(packed: bytes) -> Lock:
    """The lock :func:`pack_lock` made ``packed`` from."""
    guide, types, notes, removed = _list(_load(packed), 4)
    if not isinstance(types, dict):
        raise CodecError("notetypes must be an object")
    notetypes = {}
    for kind, value in types.items():
        model_id, schema, design, mtime = _list(value, 4)
        notetypes[_str(kind)] = NotetypeEntry(_int(model_id), _str(schema), _str(design),
                                              _int(mtime))  # fmt: skip
    return Lock(_str(guide), notetypes, [_read_entry(e) for e in _list(notes)],
                [_read_entry(e) for e in _list(removed)])  # fmt: skip


__all__ = [
    "CodecError",
    "DeckRecords",
    "Outline",
    "pack_lock",
    "pack_prepared",
    "pack_records",
    "unpack_lock",
    "unpack_outline",
    "unpack_prepared",
    "unpack_records",
]
