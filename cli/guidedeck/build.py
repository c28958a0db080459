"""The pipeline, start to end: read guides, parse, render fields, match identities, package, write.

1. **Remember**: read what the user last imported (the decks in the output folder) and the lock
   files (:mod:`guidedeck.memory`).
2. **Prepare** every guide (read, parse, render; in worker processes) and match its cards to the
   notes remembered for it, as each guide arrives.
3. **Match across guides**: cards still without a note may take one whose guide is gone
   (renamed, moved) or that left another guide of this build (an item moved between guides).
4. **Assign** identities (GUID, note id, ``ID``, mtime) and **write** each package, then the lock
   files, each atomically.

Everything is gathered before anything is written (mkdocs' rule), so a card can find its note in
any guide. A package is written only when all its guides were read without an error (or, with
``strict``, without a warning); otherwise the deck built last time stays as it was. Builds that
touch the same folders wait for each other (a file lock), so they never trip on each other's
temporary files or interleave lock writes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, fields
from itertools import islice
from pathlib import Path
from typing import Any

from guidedeck.cache import Cache, deck_digest, guide_key, pack, unpack
from guidedeck.cards import KINDS
from guidedeck.config import PackageConfig, short_name
from guidedeck.diagnostics import Diagnostic, Severity, SourceLoc
from guidedeck.guides import MAX_GUIDE_BYTES, read_bounded, read_guide
from guidedeck.identity import (
    Candidate,
    NoteIds,
    anki_search,
    candidate,
    card_keys,
    fields_hash,
    guid_for_key,
    match,
    stable_number,
    uniquify,
)
from guidedeck.lockfile import LOCK_SUFFIX, Lock, NoteEntry, NotetypeEntry
from guidedeck.media import Media
from guidedeck.memory import Memory, Remembered, load_memory, remove_orphans, text_digest
from guidedeck.models import Card, CardKind, Guide
from guidedeck.notetypes import design, design_hash, schema_hash
from guidedeck.package import DeckData, NoteData, make_package, package_bytes
from guidedeck.resources import data_dir
from guidedeck.slugs import slugify
from guidedeck.transaction import Transaction, recover

DECK_ID_BASE = 1_400_000_000_000
BeforeCommit = Callable[["BuildReport", Mapping[Path, Path]], bool]
"""``before_commit(report, locks)``: ``locks`` maps each guide's lock file to the file holding
its new text (staged, or the lock itself when unchanged)."""


@dataclass
class GuideReport:
    """What one guide contributed to a build."""

    path: Path
    title: str = ""
    counts: Counter[CardKind] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    """Notes ``added``, ``changed``, ``unchanged`` (and ``removed``) against the last build."""
    removed: list[NoteEntry] = field(default_factory=list)
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass
class PackageReport:
    """One package: its guides, where it went, and whether it was written."""

    config: PackageConfig
    output: Path
    guides: list[GuideReport] = field(default_factory=list)
    written: bool = False
    ready: bool = False
    """Everything needed to write it was there (in a dry run: it would be written)."""
    staged: Path | None = None
    """While a ``before_commit`` hook runs: the complete new deck, not yet in place."""
    skipped: bool = False
    """A scanned file that made no cards: no deck, and no error."""
    unchanged: bool = False
    """The deck in place is the one this build makes: not rewritten."""
    problems: list[Diagnostic] = field(default_factory=list)
    """Problems of the package itself (e.g. no cards), beside the guides' own."""

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem of this package and its guides."""
        return [*self.problems, *(d for g in self.guides for d in g.diagnostics)]


@dataclass
class BuildReport:
    """The outcome of a build, for the summary and the exit code."""

    packages: list[PackageReport] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    problems: list[Diagnostic] = field(default_factory=list)
    removed_elsewhere: dict[str, list[NoteEntry]] = field(default_factory=dict)
    """Notes of guides that are gone (by the lock or deck file that knew them), not taken over."""
    notices: list[str] = field(default_factory=list)
    """What the user should know that is no problem: renamed decks, files tidied away."""
    declined: bool = False
    """A ``before_commit`` hook chose not to put the staged files in place."""
    reused: int = 0
    """Guides taken from the cache as prepared by an earlier build."""
    prepared: int = 0
    """Guides read, parsed and rendered by this build."""

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem of the build, in package order."""
        return [*(d for p in self.packages for d in p.diagnostics), *self.problems]

    def removed_searches(self) -> list[tuple[str, int, str]]:
        """Per guide (or gone guide): how many notes left it, and the Anki search for them."""
        out = []
        for pkg in self.packages:
            for guide in pkg.guides:
                if guide.removed:
                    ids = [e.id for e in guide.removed]
                    out.append((guide.path.name, len(ids), anki_search(ids)))
        for where, entries in self.removed_elsewhere.items():
            out.append((where, len(entries), anki_search(e.id for e in entries)))
        return out


def deck_name(config: PackageConfig, guide: Guide, prefix: str) -> str:
    """``config.deck``, else ``<prefix>::<guide title>`` (``::`` in titles would nest decks)."""
    return deck_name_for(config, guide.title, prefix)


def deck_name_for(config: PackageConfig, title: str, prefix: str) -> str:
    """:func:`deck_name` from the guide's title."""
    if config.deck:
        return config.deck
    return f"{config.prefix or prefix}::{title.replace('::', ':')}"


def deck_id(name: str) -> int:
    """A stable deck id from the deck's name (Anki matches imported decks by name anyway)."""
    return DECK_ID_BASE + stable_number("deck:" + name, 2**36)


def note_tags(guide: Guide, card: Card, extra: Sequence[str]) -> tuple[str, ...]:
    """Tags: guide, card kind, question category and type, and the configured extras."""
    tags = [f"guide::{guide.slug}", f"kind::{card.kind.value}"]
    section = card.section
    if section is not None and section.category:
        tags.append(f"category::{slugify(section.category)}")
    if section is not None and section.type:
        tags.append(f"type::{slugify(section.type)}")
    if section is not None:
        tags.extend(f"topic::{slugify(t)}" for t in section.tags)
    tags.extend("".join(t.split()) for t in extra)
    return tuple(dict.fromkeys(t for t in tags if t))


def lock_path(guide: Path, out_dir: Path) -> Path:
    """``<stem>.guidedeck.lock`` beside the guide, committed with it; for the sample shipped with
    guidedeck (not the user's to commit, maybe not writable), beside the decks in ``out_dir``.

    One lock file per guide keeps each guide's identity changes in its own diff.
    """
    stem = guide.stem
    if guide.suffix.lower() != ".md" and guide.with_suffix(".md").exists():
        stem = guide.name  # a.mdx beside a.md: each keeps a lock of its own
    name = f"{short_name(stem)}{LOCK_SUFFIX}"
    if guide.resolve().is_relative_to(data_dir("deck_source").resolve()):
        return out_dir / name
    return guide.parent / name


@contextmanager
def folder_locks(folders: Sequence[Path]) -> Iterator[None]:
    """Hold an exclusive file lock per folder (sorted, so two builds never deadlock).

    The lock files live in the system's temporary folder, named by a hash of the folder's path,
    so nothing is added to the user's guide folders.
    """
    import getpass

    from filelock import FileLock

    # one folder per user: a folder another user made would not be writable
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid with no name (containers)
        user = "anyone"
    where = Path(tempfile.gettempdir()) / f"guidedeck-locks-{user}"
    where.mkdir(mode=0o700, exist_ok=True)
    names = sorted({hashlib.sha256(str(f.resolve()).encode()).hexdigest()[:24] for f in folders})
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(FileLock(str(where / f"{name}.lock")))
        yield


def _notetypes(
    before: dict[str, NotetypeEntry], kinds: Sequence[CardKind], now: int, where: Path
) -> tuple[dict[str, NotetypeEntry], list[Diagnostic]]:
    """This build's notetype entries; refuse a notetype whose fields changed under the same id."""
    entries = dict(before)
    problems = []
    for kind in kinds:
        spec = KINDS[kind].notetype
        schema, looks = schema_hash(spec), design_hash(design(kind))
        known = before.get(kind.value)
        if known is not None and known.model_id == spec.model_id and known.schema != schema:
            problems.append(
                Diagnostic.error(
                    SourceLoc(str(where), 1),
                    f"the fields of notetype {spec.name!r} (id {spec.model_id}) differ from "
                    f"those recorded in {where.name}; Anki would copy the notetype and stop "
                    "updating your notes. Declare a new notetype version (a new id and name, "
                    "see README 'Changing a notetype') instead of changing its fields.",
                )
            )
            continue
        if known is None or known.model_id != spec.model_id:
            mtime = now
        elif known.design == looks:
            mtime = known.mtime
        else:
            mtime = max(now, known.mtime + 1)
        entries[kind.value] = NotetypeEntry(spec.model_id, schema, looks, mtime)
    return entries, problems


# --- prepare: read, parse, render ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderedCard:
    """A card ready to become a note: everything but its identity."""

    kind: CardKind
    fields: dict[str, str]
    """Every field but ``ID`` (HTML)."""
    tags: tuple[str, ...]
    fhash: str
    candidate: Candidate
    source: str = ""
    """``path:line`` of the card in its guide (for previews and reports)."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # rebuilt through __init__: dataclasses' own pickling of slotted classes sets each
        # field by name, and was the largest cost of a rebuild from the cache
        return (type(self), tuple(getattr(self, name) for name in self.__slots__))


@dataclass
class Prepared:
    """A guide read, parsed and rendered: everything a build needs but identities."""

    path: Path
    diagnostics: tuple[Diagnostic, ...]
    title: str = ""
    slug: str = ""
    cards: list[RenderedCard] = field(default_factory=list)
    usable: bool = False
    media: dict[str, Path] = field(default_factory=dict)
    """Images the cards show: name in the package -> file."""
    deps: dict[str, str] = field(default_factory=dict)
    """Files besides the guide the cards were made from (images) -> their content digest."""


def render(card: Card, guide: Guide, **options: Any) -> dict[str, str]:
    """:func:`guidedeck.render.render`, loaded on first use: a rebuild from the cache renders
    nothing and need not load markdown-it, nh3 and the MDX plugin."""
    from guidedeck import render as rendering

    return rendering.render(card, guide, **options)


def prepare(
    path: Path,
    kinds: Sequence[CardKind],
    tags: Sequence[str],
    strict: bool,
    shuffle: bool = False,
    dialect: str = "auto",
    data: bytes | None = None,
) -> Prepared:
    """Read (unless ``data`` holds the guide's bytes), parse and render one guide; runs in a
    worker process when ``--jobs`` > 1."""
    read = read_guide(path, dialect, data)
    if read.result is None or not read.usable(strict):
        return Prepared(path, read.diagnostics)
    guide = read.result.guide
    cards = [c for c in guide.cards if c.kind in kinds]
    out = Prepared(path, read.diagnostics, guide.title, guide.slug, usable=True)
    media = Media(path.parent)
    for card, (key, pos) in zip(cards, card_keys(guide, cards), strict=True):
        fields = render(card, guide, shuffle=shuffle, media=media)
        card_tags = note_tags(guide, card, tags)
        out.cards.append(
            RenderedCard(
                card.kind, fields, card_tags, fields_hash(fields, card_tags),
                candidate(card.kind, key, pos, fields), str(card.loc),
            )
        )  # fmt: skip
    out.media = dict(media.files)
    out.deps = dict(media.looked)
    if media.problems:
        out.diagnostics = tuple(sorted([*out.diagnostics, *media.problems],
                                       key=lambda d: (d.loc.line, d.loc.col)))  # fmt: skip
    return out


def available_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the main process (which stops them) and die on SIGTERM, which is
    how the pool stops them: no traceback from each of them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


_Work = tuple[Path, tuple[CardKind, ...], tuple[str, ...], bool, bool, str]
"""What preparing a guide depends on besides its bytes: path, kinds, tags, strict, shuffle,
dialect (the configuration that applies to it)."""


def _read(path: Path) -> bytes | None:
    try:
        return read_bounded(path, MAX_GUIDE_BYTES)
    except (OSError, ValueError):
        return None  # preparing reports why


def _options(job: _Work) -> tuple[object, ...]:
    return (tuple(k.value for k in job[1]), *job[2:])


def _prepare_job(job: _Work, keyed: bool) -> tuple[bytes, dict[str, str], str]:
    """The guide prepared (packed), the files it depends on, and (``keyed``: for the cache)
    the key of the bytes it was prepared from ("": none)."""
    data = _read(job[0])
    ready = prepare(*job, data=data)
    key = guide_key(job[0], data, _options(job))[1] if keyed and data is not None else ""
    return pack(ready), ready.deps, key


Reload = Callable[[], bytes]
"""Gives a guide taken from the cache again, packed, when the build writes it."""


class GuideChangedError(Exception):
    """A guide taken from the cache changed, and its cache entry vanished, during the build."""


def _reloader(cache: Cache, slot: str, key: str, job: _Work) -> Reload:
    def reload() -> bytes:
        packed = cache.get_packed(slot, key, check=False)
        if packed is not None:
            return packed
        # the cache was deleted during the build: the guide, if unchanged, is prepared again
        data = _read(job[0])
        if data is None or guide_key(job[0], data, _options(job))[1] != key:
            raise GuideChangedError(job[0])
        return pack(prepare(*job, data=data))

    return reload


def _prepared(
    packages: Sequence[PackageConfig], strict: bool, jobs: int, cache: Cache
) -> Generator[tuple[bytes, Reload | None], None, None]:
    """Every guide of ``packages`` prepared and packed, in order: from ``cache`` when it holds
    the guide as it is, else prepared (with ``jobs`` > 1 in worker processes) and stored there.
    A guide from the cache comes with a :data:`Reload`: the build need not hold it until it
    writes it (memory stays flat however many guides).

    At most two guides per worker are in flight, so unread results never pile up.
    """
    work: list[_Work] = [
        (path, tuple(c.kinds), tuple(c.tags), strict, c.shuffle, c.dialect)
        for c in packages
        for path in c.guides
    ]
    keys: list[tuple[str, str]] = []
    for job in work:
        data = _read(job[0]) if cache.root is not None else None
        keys.append(guide_key(job[0], data, _options(job)) if data is not None else ("", ""))
    stored = [bool(key) and cache.has(slot, key) for slot, key in keys]
    missed = [job for job, hit in zip(work, stored, strict=True) if not hit]
    with ExitStack() as stack:
        keyed = cache.root is not None
        results = _results(missed, jobs, keyed, stack)
        for job, (slot, key), hit in zip(work, keys, stored, strict=True):
            packed = cache.get_packed(slot, key) if hit else None
            if packed is not None:
                cache.hits += 1
                yield packed, _reloader(cache, slot, key, job)
                continue
            # a stored guide whose images changed is prepared here, in order
            packed, deps, made_from = next(results) if not hit else _prepare_job(job, keyed)
            cache.misses += 1
            if made_from:
                cache.put_packed(slot, made_from, packed, deps)
            yield packed, None


def prepare_all(
    packages: Sequence[PackageConfig], strict: bool, cache: Cache | None = None, jobs: int = 1
) -> Iterator[Prepared]:
    """Every guide of ``packages`` prepared, in order, as a build prepares it (the one prepare
    stage of build, check, preview, serve and push)."""
    prepared = _prepared(packages, strict, jobs, cache or Cache(None))
    try:
        for packed, _reload in prepared:
            ready: Prepared = unpack(packed)
            yield ready
    finally:
        prepared.close()


def _results(
    work: Sequence[_Work], jobs: int, keyed: bool, stack: ExitStack
) -> Iterator[tuple[bytes, dict[str, str], str]]:
    """``work`` prepared in order: here, or by a pool of ``jobs`` workers closed by ``stack``."""
    if jobs <= 1 or len(work) <= 1:
        return (_prepare_job(job, keyed) for job in work)
    workers = min(jobs, len(work), available_cores())
    # loaded once here, before the workers fork, rather than once in each of them
    import guidedeck.parse
    import guidedeck.render  # noqa: F401

    context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else None)
    pool = stack.enter_context(context.Pool(workers, initializer=_worker_signals))

    def ordered() -> Iterator[tuple[bytes, dict[str, str], str]]:
        queue = iter(work)
        pending = deque(
            pool.apply_async(_prepare_job, (job, keyed)) for job in islice(queue, 2 * workers)
        )
        while pending:
            ready = pending.popleft().get()
            for job in islice(queue, 1):
                pending.append(pool.apply_async(_prepare_job, (job, keyed)))
            yield ready

    return ordered()


# --- matching: per guide, then across guides ------------------------------------------------------


@dataclass
class _Job:
    """One guide of one package, between preparing and writing."""

    package: int
    path: Path
    home: Path
    """The guide's resolved path: what remembered notes name as their home."""
    kinds: tuple[CardKind, ...]
    report: GuideReport
    usable: bool = False
    title: str = ""
    cards: dict[int, Candidate] = field(default_factory=dict)
    """Cards by their place in the guide; after matching at home, only those without a note."""
    matched: list[str | None] = field(default_factory=list)
    """Per card: the GUID of the remembered note it continues, or None."""
    packed: bytes = b""
    """The prepared guide, pickled and compressed: kept small until it is written."""
    reload: Reload | None = None
    """For a guide from the cache, which is not held: how to have it again."""

    def unpack(self) -> Prepared:
        """The prepared guide (raises :class:`GuideChangedError`)."""
        packed = self.packed or (self.reload() if self.reload is not None else b"")
        prepared: Prepared = unpack(packed)
        return prepared


def _current(entry: NoteEntry) -> bool:
    """Whether a note was made with today's notetype version of its kind (else it is retired:
    a new notetype version makes new notes)."""
    return entry.kind in KINDS and KINDS[entry.kind].notetype.model_id == entry.model


def _match_home(job: _Job, memory: Memory, claimed: set[str]) -> None:
    """Match a guide's cards to the notes remembered for that guide."""
    kinds = {k.value for k in job.kinds}
    pool = [
        r
        for r in memory.home_notes(job.home)
        if r.entry.guid not in claimed and r.entry.kind in kinds and _current(r.entry)
    ]
    cards = list(job.cards.values())
    if {c.chash for c in cards} - {r.entry.chash for r in pool}:
        memory.load_words(pool)  # some card changed: similarity needs the notes' words
    found = match([r.entry for r in pool], cards)
    job.matched = [None if i is None else pool[i].entry.guid for i in found]
    for j, guid in enumerate(job.matched):
        if guid is not None:
            claimed.add(guid)
            memory.forget_words(guid)
            del job.cards[j]  # only cards still without a note are matched again


def _match_across(jobs: Sequence[_Job], memory: Memory, claimed: set[str]) -> None:
    """Cards still without a note may take one whose guide is gone or that left its guide."""
    built: dict[Path, set[str]] = defaultdict(set)
    for job in jobs:
        if job.usable:
            built[job.home].update(k.value for k in job.kinds)
    pool = [
        r
        for r in memory.notes.values()
        if r.entry.guid not in claimed
        and (r.home is None or r.entry.kind in built.get(r.home, ()))
        and _current(r.entry)
    ]
    slots = [(job, j) for job in jobs if job.usable for j, g in enumerate(job.matched) if g is None]
    if not pool or not slots:
        return
    cards = [job.cards[j] for job, j in slots]
    memory.load_words(pool)
    entries = [r.entry for r in pool]
    # A guide's own origin (the file where most of its unchanged cards are found: its old lock
    # or deck after a rename) may use key and place as hints; other origins may not.
    origins: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for r in pool:
        origins[(r.entry.kind, r.entry.chash)].append(r.origin)
    votes: dict[Path, Counter[Path]] = defaultdict(Counter)
    for (job, _j), card in zip(slots, cards, strict=True):
        votes[job.home].update(origins.get((card.kind, card.chash), [])[:1])
    paired = {home: count.most_common(1)[0][0] for home, count in votes.items() if count}
    found = match(
        entries, cards, hinted=lambda i, j: paired.get(slots[j][0].home) == pool[i].origin
    )
    for (job, j), i in zip(slots, found, strict=True):
        if i is not None:
            job.matched[j] = pool[i].entry.guid
            claimed.add(pool[i].entry.guid)


# --- assigning identities -------------------------------------------------------------------------


@dataclass
class _Identities:
    """Hands out identities for new notes, never one that is taken anywhere."""

    memory: Memory
    now: int
    note_ids: NoteIds = field(init=False)
    used_ids: set[str] = field(default_factory=set)
    """``ID`` values of this build's notes: no two may share one."""
    used_nids: set[int] = field(default_factory=set)
    """Note ids of this build's notes: two branches' builds in one second hand out equal ones."""
    fresh_mtime: int = field(init=False)
    """The mtime of a changed note: newer than anything emitted before (clocks can lag)."""

    def __post_init__(self) -> None:
        self.note_ids = NoteIds(self.now, self.memory.nids)
        self.fresh_mtime = max(self.now, self.memory.high_water + 1)

    def new(self, key: str) -> tuple[str, str, int]:
        # memory.ids holds every ID remembered and every one this build gave out
        (id_field,) = uniquify([key], self.memory.ids)
        guid = guid_for_key(id_field)
        while guid in self.memory.guids:
            guid = guid_for_key(guid + id_field)
        self.memory.guids.add(guid)
        return id_field, guid, self.note_ids.take()


def _notes_of(
    job: _Job, prepared: Prepared, memory: Memory, ids: _Identities, deck: str,
    renamed: Counter[tuple[str, str]],
) -> tuple[list[NoteData], list[NoteEntry]]:  # fmt: skip
    """The notes of one guide with their identities, and their lock entries."""
    notes, entries = [], []
    for card, matched in zip(prepared.cards, job.matched, strict=True):
        cand = card.candidate
        if matched is not None:
            known = memory.notes[matched]
            before = known.entry
            guid = before.guid
            id_field, nid = before.id, before.nid
            if id_field in ids.used_ids:  # two branches gave one ID to two notes
                (id_field,) = uniquify([id_field], memory.ids)
            if nid in ids.used_nids:  # Anki keeps its own id for a note it has (by GUID)
                nid = ids.note_ids.take()
            if before.fhash == card.fhash and not known.removed and id_field == before.id:
                status, mtime = "unchanged", before.mtime
            else:
                status, mtime = "changed", ids.fresh_mtime
            if known.deck is not None and known.deck != deck:
                renamed[(known.deck, deck)] += 1
        else:
            status, mtime = "added", ids.now
            id_field, guid, nid = ids.new(cand.key)
        ids.used_ids.add(id_field)
        ids.used_nids.add(nid)
        job.report.status[status] += 1
        notes.append(NoteData(card.kind, {"ID": id_field, **card.fields}, card.tags, guid, nid,
                              mtime))  # fmt: skip
        entries.append(
            NoteEntry(id_field, guid, nid, cand.kind, KINDS[card.kind].notetype.model_id, cand.key,
                      cand.pos, mtime, card.fhash, cand.chash, cand.text)
        )  # fmt: skip
    job.report.counts.update(n.kind for n in notes)
    return notes, entries


# --- the build ------------------------------------------------------------------------------------


def build(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    *,
    prefix: str,
    strict: bool = False,
    dry_run: bool = False,
    on_guide: Callable[[Path], None] | None = None,
    now: int | None = None,
    jobs: int = 1,
    roots: Sequence[Path] = (),
    before_commit: BeforeCommit | None = None,
    cache: Cache | None = None,
) -> BuildReport:
    """Build and write every package and lock file; report what happened.

    Never raises for bad guides: problems end up in the report. ``dry_run`` computes everything
    and writes nothing. ``now`` (seconds) is the mtime given to new and changed notes; ``jobs``
    is how many processes read and render guides; ``roots`` are the folders the guides were
    found in (searched for lock files of guides that are gone). ``before_commit`` runs once
    every file is staged, before any is put in place (still holding the folders' locks); it may
    read the staged decks (``PackageReport.staged``) and lock files, and returns whether to
    commit them (False, or an exception, leaves every file as it was). ``cache`` holds guides
    prepared by earlier builds and what each deck was built from (none: everything is made).
    """
    cache = Cache(None) if cache is None else cache
    started = time.perf_counter()
    report = BuildReport(dry_run=dry_run)
    now = int(time.time()) if now is None else now
    locks = {p.resolve(): lock_path(p, out_dir) for c in packages for p in c.guides}
    folders = [out_dir, *{lock.parent for lock in locks.values()}]
    with folder_locks(folders), _finishing(cache, report):
        done = recover(out_dir)
        if done:
            report.notices.append(
                f"finished {len(done)} file(s) of a build that was stopped while writing them"
            )
        outputs = {c.output: [p.resolve() for p in c.guides] for c in packages}
        roots = roots or sorted({p.parent for c in packages for p in c.guides})
        memory = load_memory(locks, outputs, out_dir, roots, cache)
        report.problems.extend(memory.problems)
        prepared = _prepared(packages, strict, jobs, cache)
        try:
            work = _gather(packages, out_dir, prepared, memory, report, on_guide)
        finally:
            prepared.close()  # stops the worker pool, also when a build fails half-way
        _write(packages, out_dir, work, memory, locks, report, now, prefix, dry_run,
               before_commit, cache)  # fmt: skip
        report.reused, report.prepared = cache.hits, cache.misses
        if not dry_run:
            cache.prune(time.time())
    for pkg in report.packages:
        if pkg.written or pkg.skipped or ((dry_run or report.declined) and pkg.ready):
            continue
        severities = {d.severity for d in pkg.diagnostics}
        # an error fails the build already; so do warnings under --strict
        if Severity.ERROR not in severities and not (strict and Severity.WARNING in severities):
            verb = "would not be" if dry_run else "not"
            pkg.problems.append(
                Diagnostic.error(
                    pkg.config.loc,
                    f"{pkg.config.output} {verb} written (see the warnings above); the deck "
                    "from the last build is left as it was",
                )
            )
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _finishing(cache: Cache, report: BuildReport) -> Iterator[None]:
    """Whatever happens, the cache files of a first build are kept only if it wrote decks."""
    try:
        yield
    finally:
        cache.finish(keep=any(p.written for p in report.packages))


def _gather(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    prepared: Generator[tuple[bytes, Reload | None], None, None],
    memory: Memory,
    report: BuildReport,
    on_guide: Callable[[Path], None] | None,
) -> list[_Job]:
    """Prepare every guide and match its cards at home; then match what is left across guides."""
    claimed: set[str] = set()
    work: list[_Job] = []
    for n, config in enumerate(packages):
        pkg = PackageReport(config, out_dir / config.output)
        report.packages.append(pkg)
        for path in config.guides:
            packed, reload = next(prepared)
            ready: Prepared = unpack(packed)
            if on_guide is not None:
                on_guide(path)
            job = _Job(n, path, path.resolve(), tuple(config.kinds),
                       GuideReport(path, diagnostics=ready.diagnostics))  # fmt: skip
            pkg.guides.append(job.report)
            work.append(job)
            problem = memory.lock_errors.get(job.home)
            if problem is not None:
                pkg.problems.append(problem)
                continue
            if not ready.usable:
                continue
            job.usable, job.title = True, ready.title
            job.report.title = ready.title
            job.cards = {j: c.candidate for j, c in enumerate(ready.cards)}
            job.packed, job.reload = (b"", reload) if reload is not None else (packed, None)
            _match_home(job, memory, claimed)
    _match_across(work, memory, claimed)
    return work


def _write(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    work: Sequence[_Job],
    memory: Memory,
    locks: dict[Path, Path],
    report: BuildReport,
    now: int,
    prefix: str,
    dry_run: bool,
    before_commit: BeforeCommit | None,
    cache: Cache,
) -> None:
    """Assign identities, write each package, then each guide's lock once all its packages are."""
    ids = _Identities(memory, now)
    txn = Transaction(out_dir)
    try:
        _stage_all(packages, work, memory, locks, report, now, prefix, dry_run, ids, txn,
                   before_commit, cache)  # fmt: skip
    except BaseException:
        txn.rollback()  # interrupted or failed before committing: every file stays as it was
        raise


def _stage_all(
    packages: Sequence[PackageConfig],
    work: Sequence[_Job],
    memory: Memory,
    locks: dict[Path, Path],
    report: BuildReport,
    now: int,
    prefix: str,
    dry_run: bool,
    ids: _Identities,
    txn: Transaction,
    before_commit: BeforeCommit | None,
    cache: Cache,
) -> None:
    """Stage every package and lock; commit those whose decks and locks all could be.

    A deck whose inputs are those it was last built from, and whose file is untouched since, is
    neither packaged nor rewritten."""
    staged: list[int] = []
    built: dict[int, tuple[str, str]] = {}
    """Decks packaged by this build: digests of their inputs and of their bytes (for the cache;
    not the bytes, which would make memory grow with the number of decks)."""
    claimed = {g for job in work for g in job.matched if g is not None}
    by_package: dict[int, list[_Job]] = defaultdict(list)
    for job in work:
        by_package[job.package].append(job)
    pending_locks: dict[Path, list[_Job]] = defaultdict(list)
    for job in work:
        pending_locks[job.home].append(job)
    lock_entries: dict[Path, list[NoteEntry]] = defaultdict(list)
    notetypes: dict[Path, dict[str, NotetypeEntry]] = {}
    failed: set[Path] = set()
    renamed: Counter[tuple[str, str]] = Counter()
    kinds_of: dict[Path, set[str]] = defaultdict(set)
    matched_of: dict[Path, set[str]] = defaultdict(set)
    for job in work:
        kinds_of[job.home].update(k.value for k in job.kinds)
        matched_of[job.home].update(g for g in job.matched if g is not None)

    for n, config in enumerate(packages):
        pkg = report.packages[n]
        jobs = by_package[n]
        usable = all(job.usable for job in jobs)
        decks: dict[str, list[NoteData]] = {}
        media: dict[str, Path] = {}
        for job in jobs:
            if not job.usable:
                failed.add(job.home)
                continue
            where = locks[job.home]
            types, refused = _notetypes(
                notetypes.get(job.home, memory.notetypes(job.home)), config.kinds, now, where
            )
            if refused:
                pkg.problems.extend(refused)
                failed.add(job.home)
                usable = False
                continue
            notetypes[job.home] = types
            name = deck_name_for(config, job.title, prefix)
            try:
                ready = job.unpack()
            except GuideChangedError:
                pkg.problems.append(
                    Diagnostic.error(
                        SourceLoc(str(job.path), 1),
                        "the guide changed during the build (and the build cache was removed); "
                        "nothing written for it: build again",
                    )
                )
                failed.add(job.home)
                usable = False
                continue
            media.update(ready.media)
            notes, entries = _notes_of(job, ready, memory, ids, name, renamed)
            decks.setdefault(name, []).extend(notes)
            lock_entries[job.home].extend(entries)
            _removed_from(job, memory, claimed)
        if not usable:
            failed.update(job.home for job in jobs)
            continue
        if not any(decks.values()):
            if config.scanned:
                # a file of a scanned folder that teaches nothing (an index, a list of
                # questions without answers): said, not an error
                pkg.skipped = True
                report.notices.append(f"{config.guides[0]}: made no cards; no deck written")
            else:
                pkg.problems.append(
                    Diagnostic.error(config.loc, f"no cards for {config.output}; nothing written")
                )
            continue
        pkg.ready = True
        if dry_run:
            continue
        mtimes: dict[CardKind, int] = {}
        for job in jobs:
            for kind_name, entry in notetypes[job.home].items():
                kind = CardKind(kind_name)
                if kind in config.kinds:
                    mtimes[kind] = max(mtimes.get(kind, 0), entry.mtime)
        deck_data = [
            DeckData(deck_id(name), name, "Built by guidedeck.", tuple(notes))
            for name, notes in decks.items()
        ]
        inputs = deck_digest(_plain(deck_data), sorted(mtimes.items()), sorted(media))
        try:
            if cache.deck_unchanged(pkg.output, inputs):
                pkg.unchanged = True
            else:
                data = package_bytes(make_package(deck_data, mtimes), 0, media)
                txn.stage(pkg.output, data)
                built[n] = (inputs, hashlib.sha256(data).hexdigest())
        except OSError as exc:
            pkg.problems.append(
                Diagnostic.error(SourceLoc(str(pkg.output), 1), f"cannot write: {exc.strerror}")
            )
            failed.update(job.home for job in jobs)
            continue
        staged.append(n)
        for job in jobs:
            job.packed = b""
            pending_locks[job.home].remove(job)
            if not pending_locks[job.home] and job.home not in failed:
                lock = _lock_for(job, memory, claimed, notetypes[job.home],
                                 lock_entries.pop(job.home), kinds_of[job.home])  # fmt: skip
                if not _stage_lock(txn, lock, memory.lock_digests.get(job.home, ""),
                                   locks[job.home], pkg):  # fmt: skip
                    failed.add(job.home)
                # staged: what this build holds of the guide would only make memory grow
                # with the number of guides
                memory.release(job.home, matched_of.pop(job.home))
    if not _commit(txn, packages, by_package, staged, failed, locks, report, before_commit):
        return
    for n, (inputs, written) in built.items():
        if report.packages[n].written:
            cache.record_deck(report.packages[n].output, inputs, written)

    _removed_elsewhere(work, memory, claimed, report)
    for (old, new), count in sorted(renamed.items()):
        report.notices.append(
            f'deck changed: {count} card(s) were in "{old}" and now belong to "{new}". Anki '
            f'keeps existing cards in "{old}" when you import (only new cards go to "{new}"): '
            f'in the Browser, search deck:"{old}", select all, Change Deck to "{new}".'
        )
    if not dry_run and not report.diagnostics:
        for path in remove_orphans(memory, claimed):
            report.notices.append(
                f"{path}: its guide is gone and this build took over all its notes; removed"
            )


_NOTE_FIELDS = tuple(f.name for f in fields(NoteData))
_DECK_FIELDS = tuple(f.name for f in fields(DeckData) if f.name != "notes")


def _plain(decks: Sequence[DeckData]) -> list[tuple[object, ...]]:
    """Every field of ``decks`` and their notes as plain tuples, whose ``repr`` (the deck's
    digest) is made in C: the dataclasses' own ``repr`` cost a tenth of a cached rebuild."""
    return [
        (*(getattr(d, f) for f in _DECK_FIELDS),
         [tuple(getattr(n, f) for f in _NOTE_FIELDS) for n in d.notes])
        for d in decks
    ]  # fmt: skip


def _reportable(r: Remembered, memory: Memory) -> bool:
    """Whether the user has this note: a previous deck held it, or no deck is known at all.

    A live lock entry that the guide's previous deck lacks came from elsewhere (a teammate's
    lock, a revert): this user never imported it. Notes of an older notetype version are read
    from the lock only (a deck's notes of unknown notetypes are skipped), and were imported.
    """
    if r.removed:
        return False  # reported when it left
    retired = not _current(r.entry)
    return r.deck is not None or r.home is None or r.home not in memory.with_decks or retired


def _removed_from(job: _Job, memory: Memory, claimed: set[str]) -> None:
    kinds = {k.value for k in job.kinds}
    gone = [
        r.entry
        for r in memory.home_notes(job.home)
        if r.entry.guid not in claimed and r.entry.kind in kinds and _reportable(r, memory)
    ]
    job.report.removed = gone
    job.report.status["removed"] = len(gone)


def _removed_elsewhere(
    work: Sequence[_Job], memory: Memory, claimed: set[str], report: BuildReport
) -> None:
    """Notes of gone guides that no card of this build took over."""
    if not any(job.usable for job in work):
        return
    by_origin: dict[str, list[NoteEntry]] = defaultdict(list)
    for r in memory.notes.values():
        if r.home is None and r.entry.guid not in claimed and _reportable(r, memory):
            by_origin[r.origin.name].append(r.entry)
    report.removed_elsewhere = dict(sorted(by_origin.items()))


def _lock_for(
    job: _Job,
    memory: Memory,
    claimed: set[str],
    notetypes: dict[str, NotetypeEntry],
    entries: list[NoteEntry],
    built: set[str],
) -> Lock:
    """The guide's lock: this build's notes, notes of kinds not built, and removed notes."""
    kept, removed = [], []
    for r in memory.home_notes(job.home):
        if r.entry.guid in claimed:
            continue
        if r.entry.kind not in built and not r.removed:
            kept.append(r.entry)  # a kind this build does not make: left as it was
        else:
            removed.append(r.entry)
    return Lock(job.path.name, notetypes, [*entries, *kept], removed)


def _stage_lock(txn: Transaction, lock: Lock, before: str, where: Path, pkg: PackageReport) -> bool:
    """Stage the lock file unless unchanged; False (and a reported error) when it cannot be."""
    text = lock.to_text()
    txn.clean(where)
    if text_digest(text) == before:
        return True  # a rebuild without edits leaves the file (and its mtime) alone
    try:
        txn.stage(where, text.encode("utf-8"))
    except OSError as exc:
        pkg.problems.append(
            Diagnostic.error(SourceLoc(str(where), 1), f"cannot write: {exc.strerror}")
        )
        return False
    return True


def _commit(
    txn: Transaction,
    packages: Sequence[PackageConfig],
    by_package: Mapping[int, Sequence[_Job]],
    staged: Sequence[int],
    failed: set[Path],
    locks: Mapping[Path, Path],
    report: BuildReport,
    before_commit: BeforeCommit | None = None,
) -> bool:
    """Rename the staged files into place, leaving out every deck whose guide's lock could not be
    written (and every lock whose guide is in such a deck): a deck and its lock go together.
    False when ``before_commit`` declined: then nothing was put in place."""
    dropped: set[int] = set()
    changed = True
    while changed:
        changed = False
        for n in staged:
            homes = {job.home for job in by_package[n]}
            if n not in dropped and homes & failed:
                dropped.add(n)
                failed.update(homes)
                changed = True
                txn.discard(report.packages[n].output)
                if not report.packages[n].problems:
                    report.packages[n].problems.append(
                        Diagnostic.error(
                            packages[n].loc,
                            f"{packages[n].output} not written: a guide of it shares a lock file "
                            "that could not be written (see above)",
                        )
                    )
    for home in failed:
        if home in locks:
            txn.discard(locks[home])
    if before_commit is not None:
        for n in staged:
            if n not in dropped:
                output = report.packages[n].output
                report.packages[n].staged = txn.staged.get(output, output)
        files = {target: txn.staged.get(target, target) for target in locks.values()}
        go_on = before_commit(report, files)
        for pkg in report.packages:
            pkg.staged = None
        if not go_on:
            txn.rollback()
            report.declined = True
            return False
    txn.commit()
    for n in staged:
        if n not in dropped:
            report.packages[n].written = True
    return True
