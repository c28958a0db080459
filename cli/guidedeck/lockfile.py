"""The lock file beside each guide: a cache of its notes' identities, made to live in git.

``aws.md`` gets ``aws.guidedeck.lock``. It is JSON Lines: a header line (format version, the
guide's file name, the notetypes as last built), then one line per note, sorted by the note's
``ID`` field. Sorted, self-contained lines keep a diff to the notes that changed, let git merge
branches that touched different notes, and make git's ``merge=union`` driver safe: when both
sides changed one note, both lines survive and the reader keeps the newer one (highest mtime).

The lock is a cache, not the only memory: the decks the user last imported (see
:mod:`guidedeck.memory`) are the truth it is checked against.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from guidedeck.cards import KINDS

LOCK_SUFFIX = ".guidedeck.lock"
"""A guide's lock file is named after it: ``aws.md`` -> ``aws.guidedeck.lock``."""
LOCK_VERSION = 2
MAX_LOCK_BYTES = 64 * 1024 * 1024
"""The largest lock file read (a guide of 10,000 cards makes about 5 MB)."""


def lock_files_under(root: Path) -> list[Path]:
    """Every lock file in folder ``root`` (or beside file ``root``) and below it, but in
    hidden folders: those a build reads to know its guides' neighbours and gone guides."""
    if root.is_file():
        root = root.parent
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob(f"*{LOCK_SUFFIX}")
        if not any(part.startswith(".") for part in p.relative_to(root).parts[:-1])
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NoteEntry:
    """One note as the lock remembers it (never changed once made: a build makes new ones)."""

    id: str
    """Value of the note's ``ID`` field: set when the note is first made, never changed."""
    guid: str
    nid: int
    kind: str
    model: int
    """The notetype id the note was made with: another notetype version means another note."""
    key: str
    """The card's natural key at the last build (guide, kind, question, its own name)."""
    pos: int
    """The note's place: it was the ``pos``-th card of its kind in its question section."""
    mtime: int
    fhash: str
    """Hash of the fields and tags last emitted (all but ``ID``): unchanged means same note."""
    chash: str
    """Hash of the card's own words (no place, guide or file name), for exact matching."""
    text: str
    """The card's own words, shortened, for similarity matching."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # rebuilt through __init__: dataclasses' own pickling of slotted classes sets each
        # field by name, and was the largest cost of a rebuild from the cache
        return (type(self), tuple(getattr(self, name) for name in self.__slots__))


@dataclass(frozen=True)
class NotetypeEntry:
    """A notetype as last built: its field/template names and its templates + CSS."""

    model_id: int
    schema: str
    design: str
    mtime: int


@dataclass
class Lock:
    """One guide's lock file."""

    guide: str = ""
    """The guide's file name when the lock was written (informational: the lock's own file
    name ties it to its guide)."""
    notetypes: dict[str, NotetypeEntry] = field(default_factory=dict)
    notes: list[NoteEntry] = field(default_factory=list)
    removed: list[NoteEntry] = field(default_factory=list)
    """Notes whose item left the guide: kept so the note is found again if the item returns."""

    def to_text(self) -> str:
        """JSON Lines, header first, then notes sorted by ``ID`` (removed ones after)."""
        header = {
            "version": LOCK_VERSION,
            "guide": self.guide,
            "notetypes": {k: asdict(v) for k, v in sorted(self.notetypes.items())},
        }
        lines = [_dumps(header)]
        for removed, entries in ((False, self.notes), (True, self.removed)):
            for entry in sorted(entries, key=lambda e: (e.id, e.guid)):
                # NoteEntry holds only str and int: a shallow dict (asdict deep-copies, and
                # was a third of a no-edit rebuild)
                record: dict[str, Any] = {name: getattr(entry, name) for name in _NOTE_FIELDS}
                if removed:
                    record["removed"] = True
                lines.append(_dumps(record))
        return "\n".join(lines) + "\n"

    def entries(self) -> list[NoteEntry]:
        """Every note the lock knows, removed ones included."""
        return [*self.notes, *self.removed]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""One encoder for every line: ``json.dumps`` with options builds a new one per call."""


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


class LockError(Exception):
    """The lock file exists but cannot be used; building would lose every note's identity."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


_NOTE_TYPES: dict[str, type] = {f.name: f.type for f in fields(NoteEntry)}  # type: ignore[misc]
_NOTE_FIELDS = tuple(_NOTE_TYPES)
_PY_TYPES = {"str": str, "int": int}
GUID_ALPHABET = re.compile(r"[\x21-\x7e]{1,64}")
"""Anki's GUIDs: 1 to 64 visible ASCII characters."""
ID_ALPHABET = re.compile(r"[A-Za-z0-9._~/#:+-]{1,1000}")
"""What a note's ``ID`` may hold (keys are slugs joined by ``/``, ``#2`` for repeats): nothing a
template could read as markup, wherever it puts the field."""
_HASH = re.compile(r"[0-9a-f]{0,64}")
FUTURE_SLACK = 7 * 24 * 3600
"""How far ahead of this machine's clock a time in a lock may lie (another machine's clock)."""
MAX_ID = 2**53 - 1
"""Anki stores ids as 64-bit integers and its clients read them as JavaScript numbers."""


def value_problem(name: str, value: Any, now: int) -> str | None:
    """Why a note's value cannot be right, or None (types are checked before): the rules of a
    lock line, and of a note read back from a deck."""
    if name == "id" and not ID_ALPHABET.fullmatch(value):
        return "must be 1 to 1,000 letters, digits and . _ ~ / # : + - (a card's key)"
    if name == "guid" and not GUID_ALPHABET.fullmatch(value):
        return "must be 1 to 64 visible ASCII characters (Anki's GUIDs)"
    if name == "kind" and value not in KINDS:
        return f"must be one of {', '.join(sorted(KINDS))}"
    if name in ("fhash", "chash") and not _HASH.fullmatch(value):
        return "must be a lower-case hexadecimal hash"
    if name == "nid" and not 0 < value <= (now + FUTURE_SLACK) * 1000:
        return "must be a note id (milliseconds since 1970), not in the future"
    if name == "mtime" and not 0 <= value <= now + FUTURE_SLACK:
        return "must be seconds since 1970, not in the future"
    if name == "model" and not 0 < value <= MAX_ID:
        return "must be a notetype id"
    if name == "pos" and not 0 <= value <= 1_000_000:
        return "must be a place from 0"
    return None


def _check_note(record: Any, where: str, line: int = 1, now: int | None = None) -> NoteEntry:
    if not isinstance(record, dict):
        raise LockError(f"{where}: a note must be a JSON object", line)
    now = int(time.time()) if now is None else now
    label = f"{where} (ID {record.get('id')!r})" if isinstance(record.get("id"), str) else where
    values: dict[str, Any] = {}
    for name, type_name in _NOTE_TYPES.items():
        if name not in record:
            raise LockError(f"{label}: note lacks {name!r}", line)
        value = record[name]
        expected = _PY_TYPES[str(type_name)]
        if not isinstance(value, expected) or isinstance(value, bool):
            raise LockError(f"{label}: {name!r} must be {expected.__name__}, not {value!r}", line)
        problem = value_problem(name, value, now)
        if problem is not None:
            raise LockError(f"{label}: {name!r} is {value!r}; it {problem}", line)
        values[name] = value
    return NoteEntry(**values)


def _check_notetype(record: Any, where: str, line: int = 1) -> NotetypeEntry:
    if not isinstance(record, dict):
        raise LockError(f"{where}: a notetype must be a JSON object", line)
    try:
        entry = NotetypeEntry(**record)
    except TypeError as exc:
        raise LockError(f"{where}: {exc}", line) from None
    numbers = (entry.model_id, entry.mtime)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise LockError(f"{where}: notetype ids and mtimes must be integers", line)
    if not 0 < entry.model_id <= MAX_ID or not 0 <= entry.mtime <= time.time() + FUTURE_SLACK:
        raise LockError(f"{where}: notetype id or mtime out of range", line)
    if not all(isinstance(h, str) and _HASH.fullmatch(h) for h in (entry.schema, entry.design)):
        raise LockError(f"{where}: notetype hashes must be hexadecimal text", line)
    return entry


def parse_lock(text: str) -> Lock:
    """A lock from its text (version 2, or the older single-JSON version 1).

    Lines left twice by a union merge are folded: for each GUID the entry with the newest mtime
    wins (a live note over a removed one when equal).
    """
    stripped = text.lstrip()
    if not stripped:
        return Lock()
    now = int(time.time())
    first = stripped.split("\n", 1)[0]
    if first.strip() == "{":
        return _parse_v1(text)
    lock = Lock()
    best: dict[str, tuple[NoteEntry, bool]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LockError(f"{where}: not valid JSON ({exc.msg})", number) from None
        if isinstance(record, dict) and "version" in record:
            if record["version"] != LOCK_VERSION:
                raise LockError(
                    f"{where}: lock version {record['version']!r} is not understood", number
                )
            lock.guide = str(record.get("guide", ""))
            types = record.get("notetypes", {})
            if not isinstance(types, dict):
                raise LockError(f"{where}: 'notetypes' must be an object", number)
            for kind, value in types.items():
                if kind not in KINDS:
                    raise LockError(f"{where}: unknown card kind {kind!r} in 'notetypes'", number)
                entry = _check_notetype(value, where, number)
                known = lock.notetypes.get(kind)
                if known is None or entry.mtime > known.mtime:
                    lock.notetypes[kind] = entry
            continue
        note = _check_note(record, where, number, now)
        removed = record.get("removed") is True
        held = best.get(note.guid)
        if held is None or (note.mtime, not removed) > (held[0].mtime, not held[1]):
            best[note.guid] = (note, removed)
        elif (note.mtime, removed) == (held[0].mtime, held[1]) and note.fhash != held[0].fhash:
            # two branches changed the note in the same second: neither side's fields are
            # known to be what the user has, so the next build sends the merged text as newer
            best[note.guid] = (replace(min(note, held[0], key=_line_order), fhash=""), removed)
    for note, removed in best.values():
        (lock.removed if removed else lock.notes).append(note)
    return lock


def _line_order(entry: NoteEntry) -> tuple[str, str, str]:
    """Which of two tied lines a merged lock keeps: the same, whatever their order."""
    return (entry.id, entry.key, entry.chash)


def _parse_v1(text: str) -> Lock:
    """Version 1: one JSON object, notes per guide file name, content hash of the model."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockError(f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise LockError("lock version is not understood")
    lock = Lock()
    types, guides = data.get("notetypes", {}), data.get("guides", {})
    if not isinstance(types, dict) or not isinstance(guides, dict):
        raise LockError("'notetypes' and 'guides' must be objects")
    for kind, value in types.items():
        lock.notetypes[kind] = _check_notetype(value, f"notetype {kind!r}")
    for name, guide in guides.items():
        if not isinstance(guide, dict):
            raise LockError(f"guide {name!r} must be an object")
        lock.guide = str(name)
        for part, target in (("notes", lock.notes), ("removed", lock.removed)):
            records = guide.get(part, [])
            if not isinstance(records, list):
                raise LockError(f"{part!r} of guide {name!r} must be a list")
            for n, record in enumerate(records):
                if isinstance(record, dict):
                    # version 1 hashed the card model, not the fields: never equal now
                    record = {**record, "chash": ""}
                target.append(_check_note(record, f"{part} entry {n + 1}"))
    return lock


def read_lock(path: Path, data: bytes | None = None) -> tuple[Lock, str]:
    """The lock in ``path`` (``data``: its bytes, if read already) and its text ("" and an
    empty lock when there is no file)."""
    from guidedeck.guides import read_bounded

    try:
        raw = read_bounded(path, MAX_LOCK_BYTES) if data is None else data
        # utf-8-sig: an editor on Windows may have saved it with a byte-order mark
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        return Lock(), ""
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise LockError(f"cannot read: {exc}") from None
    return parse_lock(text), text
