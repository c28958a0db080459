"""The *remember* stage: what the decks the user last imported and the lock files hold.

The decks guidedeck wrote last time (``*.apkg`` in the output folder) are the truth: they hold
every note's GUID, note id, mtime and fields exactly as the user imported them. Lock files are a
cache of the same, committed beside the guides, so a fresh clone (no decks yet) keeps identities;
they may be stale (a ``git revert`` restores old mtimes), missing (never committed) or renamed.
Both are read and merged by GUID, the deck winning.

Every remembered note has a *home*: the guide it came from (by the lock beside that guide, or by
the ``Source`` field of the deck's note). A note whose guide is gone (renamed, moved, deleted) has
none: any guide of the build may claim it by content, which is how a renamed guide keeps its
notes, with or without its lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from guidedeck.cache import Cache
from guidedeck.cards import KINDS
from guidedeck.codec import CodecError, pack_lock, pack_records, unpack_lock, unpack_records
from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.guides import GUIDE_SUFFIXES, read_bounded
from guidedeck.identity import content_hash, field_text, fields_hash, similarity_text
from guidedeck.lockfile import (
    FUTURE_SLACK,
    LOCK_SUFFIX,
    MAX_LOCK_BYTES,
    Lock,
    LockError,
    NoteEntry,
    NotetypeEntry,
    lock_files_under,
    read_lock,
    value_problem,
)
from guidedeck.models import CardKind
from guidedeck.ownership import RECORD, Record, digest, read_record


@dataclass(frozen=True, slots=True)
class Remembered:
    """A note as last emitted (deck) or recorded (lock)."""

    entry: NoteEntry
    home: Path | None
    """The guide it belongs to (resolved path); None when that guide is gone."""
    origin: Path
    """The file it was read from (the deck when a deck holds it), for reports."""
    deck: str | None = None
    """The deck it was in, in the previous deck file; None when only a lock knows it."""
    removed: bool = False
    """Only a lock's list of removed notes knows it."""


@dataclass(frozen=True, slots=True)
class DeckNote:
    """A guidedeck note read back from a deck file."""

    kind: CardKind
    guid: str
    nid: int
    mtime: int
    fields: dict[str, str]
    tags: tuple[str, ...]
    deck: str


MAX_DECK_BYTES = 512 * 1024 * 1024
"""The largest previous deck read back (guidedeck's decks carry no media: a few MB at most)."""


class DeckReadError(Exception):
    """A file in the output folder could not be read as a deck."""


def read_deck(path: Path) -> list[DeckNote]:
    """The notes of guidedeck's notetypes in an ``.apkg`` file (other notes are ignored)."""
    return deck_notes(_deck_bytes(path))


def _deck_bytes(path: Path) -> bytes:
    try:
        return read_bounded(path, MAX_DECK_BYTES)
    except (OSError, ValueError) as exc:
        raise DeckReadError(f"not a deck guidedeck wrote ({exc})") from None


def deck_notes(raw: bytes) -> list[DeckNote]:
    """The notes of guidedeck's notetypes in the bytes of an ``.apkg`` file."""
    data = _collection(raw)
    with _database(data) as conn:
        try:
            _plain_tables(conn)
            decks_json = conn.execute("select decks from col").fetchone()[0]
            names = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
            deck_of = dict(conn.execute("select nid, did from cards"))
            rows = conn.execute("select id, guid, mid, mod, flds, tags from notes").fetchall()
        except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:
            raise DeckReadError(f"not a deck guidedeck wrote ({exc})") from None
    notes = []
    now = int(time.time())
    for nid, guid, mid, mod, flds, tags in rows:
        spec = KINDS.by_model(mid)
        if spec is None:
            continue
        kind, names_of_fields = spec.kind, spec.notetype.fields
        values = flds.split("\x1f")
        if len(values) != len(names_of_fields):
            continue  # an older version of the notetype: its notes are not this build's
        mod = _checked(nid, guid, mod, values[0], now)
        notes.append(
            DeckNote(
                kind, guid, nid, mod, dict(zip(names_of_fields, values, strict=True)),
                tuple(tags.split()), names.get(deck_of.get(nid, 0), ""),
            )
        )  # fmt: skip
    return notes


def _checked(nid: object, guid: object, mod: object, id_field: str, now: int) -> int:
    """A note's mtime, clamped to what a lock accepts (the clock and another machine's slack:
    a time further ahead would be copied into a lock that the next build refuses). A value a
    lock line could not hold (:func:`~guidedeck.lockfile.value_problem`) means the deck is not
    guidedeck's."""
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (nid, mod)):
        raise DeckReadError("not a deck guidedeck wrote (a note's id or time is not a number)")
    refusals = {
        "id": (id_field, f"a note's ID is {id_field[:80]!r}"),
        "guid": (guid, "a note's GUID is not Anki's"),
        "nid": (nid, "a note id lies in the future"),
    }
    for name, (value, said) in refusals.items():
        expected = int if name == "nid" else str
        if not isinstance(value, expected) or value_problem(name, value, now) is not None:
            raise DeckReadError(f"not a deck guidedeck wrote ({said})")
    assert isinstance(mod, int)
    return max(0, min(mod, now + FUTURE_SLACK))


MAX_COLLECTION_BYTES = 64 * 1024 * 1024
"""The largest collection inside a deck read back (guidedeck's hold a few MB: 10,000 cards)."""
MAX_SQL_STEPS = 20_000_000
"""SQLite's virtual-machine steps one deck may take to read (a few million for the largest)."""


def _collection(raw: bytes) -> bytes:
    """The collection file inside a deck's bytes, inflated no further than the limit."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo("collection.anki2")
            if info.file_size > MAX_COLLECTION_BYTES:
                raise ValueError("its collection is too large")
            with archive.open(info) as handle:
                data = handle.read(MAX_COLLECTION_BYTES + 1)
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError) as exc:
        raise DeckReadError(f"not a deck guidedeck wrote ({exc})") from None
    if len(data) > MAX_COLLECTION_BYTES:
        raise DeckReadError("not a deck guidedeck wrote (its collection is too large)")
    return data


def _plain_tables(conn: sqlite3.Connection) -> None:
    """Refuse a collection whose ``col``, ``notes`` or ``cards`` are not plain tables (a view
    can compute forever), and bound the work any query on it may take."""
    found = dict(conn.execute(
        "select name, type from sqlite_master where name in ('col', 'notes', 'cards')"
    ).fetchall())  # fmt: skip
    if found != {"col": "table", "notes": "table", "cards": "table"}:
        raise ValueError("its notes, cards or collection are not plain tables")
    steps = [0]

    def progress() -> int:
        steps[0] += 1
        return int(steps[0] > MAX_SQL_STEPS // 1000)  # non-zero: stop the query

    conn.set_progress_handler(progress, 1000)


@contextlib.contextmanager
def _database(data: bytes) -> Iterator[sqlite3.Connection]:
    conn: sqlite3.Connection = sqlite3.connect(":memory:")
    try:
        if hasattr(conn, "deserialize"):
            conn.deserialize(data)
            yield conn
            return
        conn.close()  # Python 3.10: no deserialize, go through a file
        with tempfile.TemporaryDirectory(prefix="guidedeck-") as tmp:
            db = Path(tmp) / "deck.anki2"
            db.write_bytes(data)
            conn = sqlite3.connect(db)
            yield conn
    finally:
        conn.close()


def deck_entry(note: DeckNote) -> NoteEntry:
    """A deck's note as a lock entry (its key is its ``ID``, its place unknown).

    Its words are left out (``text`` empty) until a similarity match needs them: a rebuild
    matches most notes by content hash alone, and words for every note of every deck would
    make memory grow with the number of guides (see :meth:`Memory.load_words`).
    """
    fields = note.fields
    return NoteEntry(
        id=fields["ID"], guid=note.guid, nid=note.nid, kind=note.kind.value,
        model=KINDS[note.kind].notetype.model_id, key=fields["ID"], pos=0, mtime=note.mtime,
        fhash=fields_hash(fields, note.tags), chash=content_hash(note.kind, fields), text="",
    )  # fmt: skip


def _source_name(note: DeckNote) -> str:
    # the guide's file name, also where the source is a link to its section (source_url)
    return field_text(note.fields.get("Source", ""), gap="")


@dataclass
class Memory:
    """Every note remembered, by GUID, and every identity taken: a record, read once.

    Filled by :func:`load_memory`; the stages after it only read it. Handing out new identities
    is the identity stage's (:class:`guidedeck.identities.Identities`), through views of the
    ``guids``, ``nids`` and ``ids`` taken here (what it adds is kept apart).
    """

    notes: dict[str, Remembered] = field(default_factory=dict)
    notetypes_of: dict[Path, dict[str, NotetypeEntry]] = field(default_factory=dict)
    """Each built guide's notetypes as its lock recorded them (resolved guide path)."""
    lock_digests: dict[Path, str] = field(default_factory=dict)
    """A hash of each built guide's lock text as read: an unchanged lock is not rewritten."""
    lock_errors: dict[Path, Diagnostic] = field(default_factory=dict)
    """Built guides whose lock cannot be used: building them would lose identities."""
    problems: list[Diagnostic] = field(default_factory=list)
    guids: set[str] = field(default_factory=set)
    nids: set[int] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    high_water: int = 0
    """The newest mtime ever emitted: a changed note must be newer than it."""
    with_decks: set[Path] = field(default_factory=set)
    """Guides (resolved) some of whose notes a previous deck holds: the user imported them."""
    orphans: dict[Path, set[str]] = field(default_factory=dict)
    """Lock and deck files whose guide is gone, with the GUIDs of the live notes they hold."""
    record: Record = field(default_factory=lambda: Record(Path(RECORD), None))
    """The output folder's record of the decks guidedeck wrote there."""
    deck_digests: dict[str, str] = field(default_factory=dict)
    """The digest of each own deck in the output folder, by file name, as read."""
    _by_home: dict[Path | None, list[Remembered]] | None = None
    _words: dict[str, str] = field(default_factory=dict)
    """Words of notes read from decks, once a similarity match needed them (a memo)."""
    _worded: set[Path] = field(default_factory=set)

    def take(self, entry: NoteEntry) -> None:
        """Mark an entry's GUID, note id and ``ID`` as used (while loading)."""
        self.guids.add(entry.guid)
        self.nids.add(entry.nid)
        self.ids.add(entry.id)
        self.high_water = max(self.high_water, entry.mtime)

    def home_notes(self, guide: Path) -> list[Remembered]:
        """The notes remembered for ``guide`` (resolved), live ones first."""
        if self._by_home is None:
            self._by_home = {}
            for r in self.notes.values():
                self._by_home.setdefault(r.home, []).append(r)
            for found in self._by_home.values():
                found.sort(key=lambda r: r.removed)
        return self._by_home.get(guide, [])

    def notetypes(self, guide: Path) -> dict[str, NotetypeEntry]:
        """The notetypes as last built for ``guide``."""
        return dict(self.notetypes_of.get(guide, {}))

    def imported(self, r: Remembered) -> bool:
        """Whether the user has this note: a previous deck held it, or no deck is known at all.

        A live lock entry that the guide's previous deck lacks came from elsewhere (a
        teammate's lock, a revert): this user never imported it. Notes of an older notetype
        version are read from the lock only (a deck's notes of unknown notetypes are skipped),
        and were imported.
        """
        retired = not current(r.entry)
        return r.deck is not None or r.home is None or r.home not in self.with_decks or retired

    def entry(self, r: Remembered) -> NoteEntry:
        """``r``'s entry, with the words read from its deck if a match read them (so the lock
        keeps them)."""
        if not r.entry.text and r.entry.guid in self._words:
            return replace(r.entry, text=self._words[r.entry.guid])
        return r.entry

    def with_words(self, notes: Sequence[Remembered]) -> list[NoteEntry]:
        """The entries of ``notes``, each with its words (read from its deck where the lock did
        not give them; each deck read once)."""
        wanted: dict[Path, set[str]] = {}
        for r in notes:
            if r.deck is not None and not r.entry.text and r.origin not in self._worded:
                wanted.setdefault(r.origin, set()).add(r.entry.guid)
        for deck_file, guids in wanted.items():
            self._worded.add(deck_file)
            with contextlib.suppress(DeckReadError):
                for note in read_deck(deck_file):
                    if note.guid in guids:
                        self._words[note.guid] = similarity_text(note.kind, note.fields)
        return [self.entry(r) for r in notes]


def current(entry: NoteEntry) -> bool:
    """Whether a note was made with today's notetype version of its kind (else it is retired:
    a new notetype version makes new notes)."""
    return entry.kind in KINDS and KINDS[entry.kind].notetype.model_id == entry.model


def text_digest(text: str) -> str:
    """A short hash of a file's text (empty text: empty digest)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""


def _guide_beside(lock: Path) -> Path | None:
    stem = lock.name[: -len(LOCK_SUFFIX)]
    if stem.lower().endswith(GUIDE_SUFFIXES) and lock.with_name(stem).is_file():
        return lock.with_name(stem)  # a.mdx.guidedeck.lock, for a.mdx beside a.md
    for suffix in GUIDE_SUFFIXES:
        candidate = lock.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def load_memory(
    guides: Mapping[Path, Path],
    outputs: Mapping[str, Sequence[Path]],
    out_dir: Path,
    roots: Sequence[Path],
    cache: Cache | None = None,
) -> Memory:
    """Read every lock and previous deck that may know the notes of ``guides``.

    ``guides`` maps each built guide (resolved) to its lock file; ``outputs`` each package file
    name of this build to its guides (resolved); ``roots`` are the folders the guides were found
    in, searched for lock files whose guide is gone. ``cache`` keeps what was read of each
    deck and lock, by its bytes: a file unchanged since is not parsed again.
    """
    memory = Memory()
    cache = cache or Cache(None)
    # Decks first: they are the truth, and a lock entry for a note a deck holds then only adds
    # what a deck cannot say (the card's key and place), so no note is held twice.
    _remember_decks(memory, guides, outputs, out_dir, roots, cache)
    for guide, lock_file in guides.items():
        _remember_own_lock(memory, guide, lock_file, cache)
    read_locks = {p.resolve() for p in guides.values()}
    out_resolved = out_dir.resolve()
    for root in roots:
        for lock_file in lock_files_under(root):
            resolved = lock_file.resolve()
            if resolved not in read_locks and not resolved.is_relative_to(out_resolved):
                read_locks.add(resolved)
                _remember_other_lock(memory, lock_file)
    return memory


def _remember_own_lock(memory: Memory, guide: Path, lock_file: Path, cache: Cache) -> None:
    """The lock of a guide this build makes; a lock that cannot be used is an error of it."""
    try:
        lock, text = _read_lock(lock_file, cache)
    except LockError as exc:
        memory.lock_errors[guide] = Diagnostic.error(
            SourceLoc(str(lock_file), exc.line),
            f"{exc}; nothing is written for this guide until the lock is fixed or removed "
            "(the notes' identities are then read back from the last deck)",
        )
        return
    memory.notetypes_of[guide] = lock.notetypes
    memory.lock_digests[guide] = text_digest(text)
    _remember_lock(memory, lock, guide, lock_file)


def _remember_other_lock(memory: Memory, lock_file: Path) -> None:
    """A lock found beside the guides: another guide's (only its ids are taken), or a gone
    guide's (its notes may be taken over)."""
    try:
        lock, _text = read_lock(lock_file)
    except LockError:
        return  # reported when its own guide is built
    named = lock.guide and "/" not in lock.guide and (lock_file.parent / lock.guide)
    if _guide_beside(lock_file) is not None or (named and named.is_file()):
        for entry in lock.entries():  # another guide's notes: only never reuse its ids
            memory.take(entry)
        return
    _remember_lock(memory, lock, None, lock_file)
    memory.orphans[lock_file] = {e.guid for e in lock.notes}


def _remember_decks(
    memory: Memory,
    guides: Mapping[Path, Path],
    outputs: Mapping[str, Sequence[Path]],
    out_dir: Path,
    roots: Sequence[Path],
    cache: Cache,
) -> None:
    """Every guidedeck note of the decks in ``out_dir``, with its home by its ``Source``."""
    by_name: dict[str, list[Path]] = {}
    for guide in guides:
        by_name.setdefault(guide.name, []).append(guide)
    folders = {g.parent for g in guides}
    folders |= {(r if r.is_dir() else r.parent).resolve() for r in roots}
    memory.record = read_record(out_dir)
    for deck_file in sorted(out_dir.glob("*.apkg")) if out_dir.is_dir() else []:
        try:
            raw = _deck_bytes(deck_file)
            if (foreign := memory.record.foreign(deck_file.name, raw)) is not None:
                raise DeckReadError(f"{foreign}; its notes are not read")
            notes = _deck_records(deck_file, raw, cache)
            memory.deck_digests[deck_file.name] = digest(raw)
        except DeckReadError as exc:
            memory.problems.append(Diagnostic.warning(SourceLoc(str(deck_file), 1), str(exc)))
            continue
        package_guides = outputs.get(deck_file.name, ())
        orphaned: set[str] = set()
        for entry, name, deck_name in notes:
            home = _home_of(name, package_guides, by_name, folders)
            if home is None:
                orphaned.add(entry.guid)
            else:
                memory.with_decks.add(home)
            memory.take(entry)
            known = memory.notes.get(entry.guid)
            if known is None or _newer_deck(entry, home, known):
                memory.notes[entry.guid] = Remembered(entry, home, deck_file, deck_name, False)
        if orphaned and len(orphaned) == len(notes) and deck_file.name not in outputs:
            memory.orphans[deck_file] = orphaned  # a deck of gone guides only, not rewritten


def _newer_deck(entry: NoteEntry, home: Path | None, known: Remembered) -> bool:
    """Whether a deck's note outranks the same note read from another deck (a gone guide's
    deck left beside its renamed guide's): the one whose guide is here, then the newer."""
    if (home is None) != (known.home is None):
        return home is not None
    return entry.mtime > known.entry.mtime


def _home_of(
    name: str, package: Sequence[Path], by_name: Mapping[str, list[Path]], folders: set[Path]
) -> Path | None:
    """The guide a deck's note came from, by its ``Source`` file name: a guide of its package,
    another guide of this build, or a file of that name in the guides' folders."""
    home = next((g for g in package if g.name == name), None)
    home = home or next(iter(by_name.get(name, ())), None)
    if home is None:
        existing = [f / name for f in folders if name and (f / name).is_file()]
        home = existing[0].resolve() if existing else None
    return home


def _deck_records(deck_file: Path, raw: bytes, cache: Cache) -> list[tuple[NoteEntry, str, str]]:
    """Each guidedeck note of a deck file (holding ``raw``) as a lock entry, with its guide's
    file name (its ``Source``) and its deck's name."""
    known = cache.recall("decks-read", deck_file, raw)
    if known is not None:
        with contextlib.suppress(CodecError):
            return unpack_records(known)
    records = [(deck_entry(n), _source_name(n), n.deck) for n in deck_notes(raw)]
    cache.remember("decks-read", deck_file, raw, pack_records(records))
    return records


def _read_lock(lock_file: Path, cache: Cache) -> tuple[Lock, str]:
    """:func:`read_lock`, parsing only a lock whose bytes changed since the cache saw it."""
    if cache.root is None:
        return read_lock(lock_file)
    try:
        raw = read_bounded(lock_file, MAX_LOCK_BYTES)
    except (OSError, ValueError):
        return read_lock(lock_file)  # it says what is wrong, or that there is no lock
    known = cache.recall("locks-read", lock_file, raw) if raw else None
    if known is not None:
        with contextlib.suppress(CodecError, UnicodeDecodeError):
            return unpack_lock(known), raw.decode("utf-8")
    lock, text = read_lock(lock_file, raw)  # the bytes just read: the file is read once
    if text:
        cache.remember("locks-read", lock_file, raw, pack_lock(lock))
    return lock, text


def _remember_lock(memory: Memory, lock: Lock, home: Path | None, origin: Path) -> None:
    for removed, entries in ((False, lock.notes), (True, lock.removed)):
        for entry in entries:
            memory.take(entry)
            known = memory.notes.get(entry.guid)
            if known is None:
                memory.notes[entry.guid] = Remembered(entry, home, origin, None, removed)
                continue
            if known.deck is not None:  # a deck holds it: its identity and content win
                keyed = replace(known.entry, key=entry.key, pos=entry.pos)
                at = known.home
                if at is None and home is not None:
                    at = home
                    memory.with_decks.add(home)
                memory.notes[entry.guid] = replace(known, entry=keyed, home=at)
            elif (known.home is None and home is not None) or (known.removed and not removed):
                # two locks know the note (a renamed guide's old lock, a merge): the guide
                # that has it live is its home
                memory.notes[entry.guid] = Remembered(entry, home, origin, None, removed)
