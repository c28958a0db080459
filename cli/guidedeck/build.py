"""The pipeline, start to end: read guides, parse, render fields, match identities, package, write.

Everything for a package is gathered and rendered before anything is written (mkdocs' rule), and a
package is written only when all its guides were read without an error (or, with ``strict``,
without a warning); otherwise the deck built last time stays as it was. The lock file beside the
guides is written after the decks, and only for the guides whose deck was written.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic, Severity, SourceLoc
from guidedeck.guides import read_guide
from guidedeck.identity import (
    LOCK_NAME,
    GuideLock,
    Lock,
    LockError,
    NoteEntry,
    NoteIds,
    NotetypeEntry,
    assign,
    card_keys,
    fields_hash,
    load_lock,
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
    if config.deck:
        return config.deck
    return f"{prefix}::{guide.title.replace('::', ':')}"


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
    """``guidedeck.lock`` beside the guide, committed with it; for the sample shipped with
    guidedeck (not the user's to commit, maybe not writable), beside the decks in ``out_dir``."""
    if guide.resolve().is_relative_to(data_dir("deck_source").resolve()):
        return out_dir / LOCK_NAME
    return guide.parent / LOCK_NAME


class _Locks:
    """The lock files a build touches: loaded once, saved at the end if they changed.

    GUIDs and note ids must be unique across everything one build writes (a package may hold
    guides whose locks differ), so one set of GUIDs and one note id source serve every lock.
    """

    def __init__(self, now: int) -> None:
        self.loaded: dict[Path, Lock] = {}
        self.original: dict[Path, str] = {}
        self.guids: set[str] = set()
        self.note_ids = NoteIds(now, set())

    def get(self, path: Path) -> Lock:
        if path not in self.loaded:
            lock = load_lock(path)
            self.loaded[path] = lock
            self.original[path] = lock.to_json() if path.exists() else ""
            guids, nids = taken_ids(lock)
            self.guids |= guids
            self.note_ids.taken |= nids
        return self.loaded[path]

    def changed(self) -> list[tuple[Path, str]]:
        texts = [(p, lock.to_json()) for p, lock in self.loaded.items()]
        return [(p, t) for p, t in texts if t != self.original[p]]


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
                    f"those recorded in {LOCK_NAME}; Anki would copy the notetype and stop "
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


def build(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    *,
    prefix: str,
    strict: bool = False,
    dry_run: bool = False,
    on_guide: Callable[[Path], None] | None = None,
    now: int | None = None,
) -> BuildReport:
    """Build and write every package and lock file; report what happened.

    Never raises for bad guides: problems end up in the report. ``dry_run`` computes everything
    and writes nothing. ``now`` (seconds) is the mtime given to new and changed notes.
    """
    started = time.perf_counter()
    report = BuildReport(dry_run=dry_run)
    now = int(time.time()) if now is None else now
    locks = _Locks(now)
    blocking = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    for config in packages:
        pkg = PackageReport(config, out_dir / config.output)
        report.packages.append(pkg)
        decks: dict[str, list[NoteData]] = {}
        updates: list[tuple[Lock, str, GuideLock, dict[CardKind, NotetypeEntry]]] = []
        usable = True
        for path in config.guides:
            if on_guide is not None:
                on_guide(path)
            read = read_guide(path)
            guide_report = GuideReport(path, diagnostics=read.diagnostics)
            pkg.guides.append(guide_report)
            if read.result is None or any(d.severity in blocking for d in read.diagnostics):
                usable = False
                continue
            where = lock_path(path, out_dir)
            try:
                lock = locks.get(where)
            except LockError as exc:
                pkg.problems.append(Diagnostic.error(SourceLoc(str(where), 1), str(exc)))
                usable = False
                continue
            notetypes, refused = _notetypes(lock, config.kinds, now, where)
            if refused:
                pkg.problems.extend(refused)
                usable = False
                continue
            guide = read.result.guide
            guide_report.title = guide.title
            cards = [c for c in guide.cards if c.kind in config.kinds]
            keys = card_keys(guide, cards)
            fields = [render(c, guide) for c in cards]
            tags = [note_tags(guide, c, config.tags) for c in cards]
            hashes = [fields_hash(f, t) for f, t in zip(fields, tags, strict=True)]
            outcome = assign(
                lock.guides.get(path.name, GuideLock()),
                {k.value: SPECS[k].model_id for k in config.kinds},
                cards, keys, hashes, now, locks.guids, locks.note_ids,
            )  # fmt: skip
            notes = []
            for card, values, note_tags_, ident in zip(
                cards, fields, tags, outcome.identities, strict=True
            ):
                notes.append(
                    NoteData(
                        card.kind,
                        {"ID": ident.id_field, **values},
                        note_tags_,
                        ident.guid,
                        ident.nid,
                        ident.mtime,
                    )
                )
                guide_report.status[ident.status] += 1
            guide_report.counts.update(n.kind for n in notes)
            guide_report.removed = outcome.removed
            guide_report.status["removed"] = len(outcome.removed)
            decks.setdefault(deck_name(config, guide, prefix), []).extend(notes)
            updates.append((lock, path.name, outcome.lock, notetypes))
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
        for _lock, _name, _guide_lock, notetypes in updates:
            mtimes.update({kind: entry.mtime for kind, entry in notetypes.items()})
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
        for lock, name, guide_lock, notetypes in updates:
            lock.guides[name] = guide_lock
            lock.notetypes.update({kind.value: entry for kind, entry in notetypes.items()})
    if not dry_run:
        for where, text in locks.changed():
            try:
                write_atomic(where, text.encode("utf-8"))
            except OSError as exc:
                report.problems.append(
                    Diagnostic.error(SourceLoc(str(where), 1), f"cannot write: {exc.strerror}")
                )
    report.seconds = time.perf_counter() - started
    return report
