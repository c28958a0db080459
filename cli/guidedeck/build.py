"""The pipeline, start to end: read guides, parse, render fields, match identities, package, write.

Everything for a package is gathered and rendered before anything is written (mkdocs' rule), and a
package is written only when all its guides were read without an error (or, with ``strict``,
without a warning); otherwise the deck built last time stays as it was. The lock file beside the
guides is written after the decks, and only for the guides whose deck was written.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.guides import read_guide
from guidedeck.identity import (
    LOCK_SUFFIX,
    Candidate,
    GuideLock,
    Lock,
    LockError,
    NoteEntry,
    NoteIds,
    NotetypeEntry,
    assign,
    candidates,
    card_keys,
    fields_hash,
    load_lock,
    read_lock,
    stable_number,
    taken_ids,
)
from guidedeck.models import Card, CardKind, Guide
from guidedeck.notetypes import SPECS, design, design_hash, schema_hash
from guidedeck.package import DeckData, NoteData, make_package, package_bytes, write_atomic
from guidedeck.parse.extract import slugify
from guidedeck.render import render
from guidedeck.resources import data_dir

DECK_ID_BASE = 1_400_000_000_000


@dataclass
class GuideReport:
    """What one guide contributed to a build."""

    path: Path
    title: str = ""
    counts: Counter[CardKind] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    """Notes ``added``, ``changed``, ``unchanged`` (and ``removed``) against the lock file."""
    removed: list[NoteEntry] = field(default_factory=list)
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass
class PackageReport:
    """One package: its guides, where it went, and whether it was written."""

    config: PackageConfig
    output: Path
    guides: list[GuideReport] = field(default_factory=list)
    written: bool = False
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

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem of the build, in package order."""
        return [*(d for p in self.packages for d in p.diagnostics), *self.problems]


def deck_name(config: PackageConfig, guide: Guide, prefix: str) -> str:
    """``config.deck``, else ``<prefix>::<guide title>`` (``::`` in titles would nest decks)."""
    return deck_name_for(config, guide.title, prefix)


def deck_name_for(config: PackageConfig, title: str, prefix: str) -> str:
    """:func:`deck_name` from the guide's title."""
    if config.deck:
        return config.deck
    return f"{prefix}::{title.replace('::', ':')}"


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
    tags.extend("".join(t.split()) for t in extra)
    return tuple(dict.fromkeys(t for t in tags if t))


def lock_path(guide: Path, out_dir: Path) -> Path:
    """``<stem>.guidedeck.lock`` beside the guide, committed with it; for the sample shipped with
    guidedeck (not the user's to commit, maybe not writable), beside the decks in ``out_dir``.

    One lock file per guide keeps a build's memory bounded by its largest guide, however many
    guides a folder holds, and keeps each guide's identity changes in its own diff.
    """
    name = f"{guide.stem}{LOCK_SUFFIX}"
    if guide.resolve().is_relative_to(data_dir("deck_source").resolve()):
        return out_dir / name
    return guide.parent / name


class _Identities:
    """GUIDs and note ids in use: new notes must not take one, in any guide of a folder.

    Sibling lock files are read one at a time for their ids only, so memory stays bounded.
    """

    def __init__(self, now: int) -> None:
        self.guids: set[str] = set()
        self.note_ids = NoteIds(now, set())
        self.folders: set[Path] = set()

    def know_folder(self, folder: Path) -> None:
        if folder in self.folders:
            return
        self.folders.add(folder)
        for path in sorted(folder.glob(f"*{LOCK_SUFFIX}")):
            try:
                guids, nids = taken_ids(load_lock(path))
            except LockError:
                continue  # reported when its own guide is built
            self.guids |= guids
            self.note_ids.taken |= nids


def _notetypes(
    lock: Lock, kinds: Sequence[CardKind], now: int, where: Path
) -> tuple[dict[CardKind, NotetypeEntry], list[Diagnostic]]:
    """This build's notetype entries; refuse a notetype whose fields changed under the same id."""
    entries: dict[CardKind, NotetypeEntry] = {}
    problems = []
    for kind in kinds:
        spec = SPECS[kind]
        schema, looks = schema_hash(spec), design_hash(design(kind))
        before = lock.notetypes.get(kind.value)
        if before is not None and before.model_id == spec.model_id and before.schema != schema:
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
        if before is None or before.model_id != spec.model_id:
            mtime = now
        elif before.design == looks:
            mtime = before.mtime
        else:
            mtime = max(now, before.mtime + 1)
        entries[kind] = NotetypeEntry(spec.model_id, schema, looks, mtime)
    return entries, problems


@dataclass
class Prepared:
    """A guide read, parsed and rendered: everything a build needs but identities."""

    path: Path
    diagnostics: tuple[Diagnostic, ...]
    title: str = ""
    slug: str = ""
    cards: list[tuple[Candidate, dict[str, str], tuple[str, ...], str]] = field(
        default_factory=list
    )
    """Per card: what matching needs, the fields (no ``ID``), the tags, the fields hash."""
    usable: bool = False


def prepare(path: Path, kinds: Sequence[CardKind], tags: Sequence[str], strict: bool) -> Prepared:
    """Read, parse and render one guide; runs in a worker process when ``--jobs`` > 1."""
    read = read_guide(path)
    if read.result is None or not read.usable(strict):
        return Prepared(path, read.diagnostics)
    guide = read.result.guide
    cards = [c for c in guide.cards if c.kind in kinds]
    out = Prepared(path, read.diagnostics, guide.title, guide.slug, usable=True)
    for card, cand in zip(cards, candidates(cards, card_keys(guide, cards)), strict=True):
        fields = render(card, guide)
        card_tags = note_tags(guide, card, tags)
        out.cards.append((cand, fields, card_tags, fields_hash(fields, card_tags)))
    return out


def _prepare_job(job: tuple[Path, tuple[CardKind, ...], tuple[str, ...], bool]) -> Prepared:
    return prepare(*job)


def _prepared(
    packages: Sequence[PackageConfig], strict: bool, jobs: int
) -> Generator[Prepared, None, None]:
    """Every guide of ``packages`` prepared, in order; with ``jobs`` > 1 in worker processes.

    At most two guides per worker are in flight: workers outpace the writing of packages, and
    results piling up unread would make memory grow with the number of guides.
    """
    work = [(path, tuple(c.kinds), tuple(c.tags), strict) for c in packages for path in c.guides]
    if jobs <= 1 or len(work) <= 1:
        yield from map(_prepare_job, work)
        return
    workers = min(jobs, len(work))
    context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else None)
    with context.Pool(workers) as pool:
        queue = iter(work)
        pending = deque(
            pool.apply_async(_prepare_job, (job,)) for job in islice(queue, 2 * workers)
        )
        while pending:
            ready = pending.popleft().get()
            for job in islice(queue, 1):
                pending.append(pool.apply_async(_prepare_job, (job,)))
            yield ready


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
) -> BuildReport:
    """Build and write every package and lock file; report what happened.

    Never raises for bad guides: problems end up in the report. ``dry_run`` computes everything
    and writes nothing. ``now`` (seconds) is the mtime given to new and changed notes; ``jobs``
    is how many processes read and render guides.
    """
    started = time.perf_counter()
    report = BuildReport(dry_run=dry_run)
    now = int(time.time()) if now is None else now
    ids = _Identities(now)
    prepared = _prepared(packages, strict, jobs)
    try:
        _build_packages(packages, out_dir, prepared, report, ids, now, prefix, dry_run, on_guide)
    finally:
        prepared.close()  # stops the worker pool, also when a build fails half-way
    report.seconds = time.perf_counter() - started
    return report


def _build_packages(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    prepared: Generator[Prepared, None, None],
    report: BuildReport,
    ids: _Identities,
    now: int,
    prefix: str,
    dry_run: bool,
    on_guide: Callable[[Path], None] | None,
) -> None:
    """Identities, packages and lock files, guide after guide as they are prepared."""
    for config in packages:
        pkg = PackageReport(config, out_dir / config.output)
        report.packages.append(pkg)
        decks: dict[str, list[NoteData]] = {}
        locks: list[tuple[Path, Lock, str]] = []
        usable = True
        for path in config.guides:
            ready = next(prepared)
            if on_guide is not None:
                on_guide(path)
            guide_report = GuideReport(path, diagnostics=ready.diagnostics)
            pkg.guides.append(guide_report)
            if not ready.usable:
                usable = False
                continue
            where = lock_path(path, out_dir)
            ids.know_folder(where.parent)
            try:
                lock, lock_text = read_lock(where)
            except LockError as exc:
                pkg.problems.append(Diagnostic.error(SourceLoc(str(where), 1), str(exc)))
                usable = False
                continue
            notetypes, refused = _notetypes(lock, config.kinds, now, where)
            if refused:
                pkg.problems.extend(refused)
                usable = False
                continue
            guide_report.title = ready.title
            outcome = assign(
                lock.guides.get(path.name, GuideLock()),
                {k.value: SPECS[k].model_id for k in config.kinds},
                [c[0] for c in ready.cards],
                [c[3] for c in ready.cards],
                now,
                ids.guids,
                ids.note_ids,
            )
            notes = []
            for (cand, fields, card_tags, _), ident in zip(
                ready.cards, outcome.identities, strict=True
            ):
                kind = CardKind(cand.kind)
                notes.append(
                    NoteData(
                        kind,
                        {"ID": ident.id_field, **fields},
                        card_tags,
                        ident.guid,
                        ident.nid,
                        ident.mtime,
                    )
                )
                guide_report.status[ident.status] += 1
            guide_report.counts.update(n.kind for n in notes)
            guide_report.removed = outcome.removed
            guide_report.status["removed"] = len(outcome.removed)
            name = deck_name_for(config, ready.title, prefix)
            decks.setdefault(name, []).extend(notes)
            updated = Lock({k.value: e for k, e in notetypes.items()},
                           {path.name: outcome.lock})  # fmt: skip
            locks.append((where, updated, lock_text))
        if not usable:
            continue
        if not any(decks.values()):
            pkg.problems.append(
                Diagnostic.warning(config.loc, f"no cards for {config.output}; nothing written")
            )
            continue
        if dry_run:
            continue
        mtimes: dict[CardKind, int] = {}
        for _where, lock, _text in locks:
            for kind_name, entry in lock.notetypes.items():
                kind = CardKind(kind_name)
                mtimes[kind] = max(mtimes.get(kind, 0), entry.mtime)
        deck_data = [
            DeckData(deck_id(name), name, "Built by guidedeck.", tuple(notes))
            for name, notes in decks.items()
        ]
        try:
            write_atomic(pkg.output, package_bytes(make_package(deck_data, mtimes), 0))
        except OSError as exc:
            pkg.problems.append(
                Diagnostic.error(SourceLoc(str(pkg.output), 1), f"cannot write: {exc.strerror}")
            )
            continue
        pkg.written = True
        for where, lock, before in locks:
            text = lock.to_json()
            if text != before:
                try:
                    write_atomic(where, text.encode("utf-8"))
                except OSError as exc:
                    report.problems.append(
                        Diagnostic.error(SourceLoc(str(where), 1), f"cannot write: {exc.strerror}")
                    )
