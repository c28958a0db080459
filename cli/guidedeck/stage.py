"""The *stage* stage: each package's deck and each guide's lock file, written aside.

Package by package, the guides' cards are given their identities (:mod:`guidedeck.identities`),
packaged into a deck and written to a temporary file beside its target; a guide's lock file is
staged once every package holding the guide is. Nothing is in place until the commit
(:mod:`guidedeck.commit`). A deck whose inputs are those it was last built from, and whose file is
untouched since, is neither packaged nor rewritten.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path

from guidedeck import ownership
from guidedeck.cache import deck_digest
from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.identities import Identities, notetype_entries
from guidedeck.identity import stable_number
from guidedeck.kinds import CardKind
from guidedeck.lockfile import Lock, NoteEntry, NotetypeEntry
from guidedeck.memory import text_digest
from guidedeck.ownership import MARK_FORMAT
from guidedeck.package import DeckData, NoteData, make_package, package_bytes
from guidedeck.plan import BuildPlan, GuideWork
from guidedeck.prepare import GuideChangedError
from guidedeck.removal import Removals, removals
from guidedeck.report import PackageReport, made_no_cards
from guidedeck.transaction import Transaction
from guidedeck.unchanged import guide_mark

DECK_ID_BASE = 1_400_000_000_000


def deck_name(config: PackageConfig, title: str) -> str:
    """``config.deck``, else ``<prefix>::<guide title>`` (``::`` in titles would nest decks):
    from the package's own configuration alone."""
    if config.deck:
        return config.deck
    return f"{config.prefix}::{title.replace('::', ':')}"


def deck_id(name: str) -> int:
    """A stable deck id from the deck's name (Anki matches imported decks by name anyway)."""
    return DECK_ID_BASE + stable_number("deck:" + name, 2**36)


@dataclass
class Staging:
    """What staging has done so far: files aside in ``txn``, and what failed."""

    plan: BuildPlan
    ids: Identities
    txn: Transaction
    staged: list[int] = field(default_factory=list)
    """Packages whose deck is staged (or unchanged in place)."""
    built: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Decks packaged by this build: digests of their inputs and of their bytes (for the cache;
    not the bytes, which would make memory grow with the number of decks)."""
    failed: set[Path] = field(default_factory=set)
    """Guides (resolved) whose lock cannot be written: their decks are not committed either."""
    notetypes: dict[Path, dict[str, NotetypeEntry]] = field(default_factory=dict)
    entries: dict[Path, list[NoteEntry]] = field(default_factory=lambda: defaultdict(list))
    pending: dict[Path, set[int]] = field(default_factory=lambda: defaultdict(set))
    """Per guide: its packages not staged yet (its lock waits for them)."""
    kinds_of: dict[Path, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Per guide: the kinds its packages make."""
    done: int = 0
    """How many packages (the first ones, in order) are staged or refused so far."""
    marks: dict[Path, str] = field(default_factory=dict)
    """Per guide: what its notes were made of (:func:`guidedeck.unchanged.guide_mark`)."""
    _images: bool | None = None
    _taken: int = 0
    """How many of the plan's guides the packages staged so far hold."""

    def __post_init__(self) -> None:
        # from the configuration, not the guides prepared so far: packages may be staged while
        # later guides are still being prepared
        for n, (config, homes) in enumerate(zip(self.plan.packages, self.plan.homes, strict=True)):
            for home in homes:
                self.pending[home].add(n)
                self.kinds_of[home].update(k.value for k in config.kinds)

    def package(self, n: int) -> None:
        """Give package ``n``'s cards their identities and stage its deck and ready locks
        (packages are staged in order, each once its guides are prepared and matched)."""
        assert n == self.done, "packages are staged in order"
        self.done += 1
        plan, config, pkg = self.plan, self.plan.packages[n], self.plan.report.packages[n]
        jobs = self._guides_of(n)
        if self._as_left(n, jobs):
            return
        decks: dict[str, list[NoteData]] = {}
        media: dict[str, Path] = {}
        usable = all(work.usable for work in jobs) and all(
            self._guide(work, config, pkg, decks, media) for work in jobs
        )
        if not usable:
            self.failed.update(work.home for work in jobs)
            return
        if not any(decks.values()):
            self._no_cards(config, pkg)
            return
        pkg.ready = True
        if plan.options.dry_run or not self._deck(n, jobs, decks, media):
            return
        self.staged.append(n)
        for work in jobs:
            work.packed = b""
            self.pending[work.home].discard(n)
            if not self.pending[work.home] and work.home not in self.failed:
                self._lock(work, pkg)

    def _guides_of(self, n: int) -> list[GuideWork]:
        """Package ``n``'s guides: the next ones of the plan's work, which holds each guide of
        every package, in order."""
        start = self._taken
        self._taken += len(self.plan.homes[n])
        return self.plan.work[start : self._taken]

    def _as_left(self, n: int, jobs: list[GuideWork]) -> bool:
        """Package ``n`` as the last clean build left it, when nothing it is made of changed:
        its guides, their locks and its deck untouched since (by the state that build kept),
        and each guide's cards continuing the very notes they continued then, with the same
        notes lost. Its deck and locks would come out byte for byte the same, so neither is
        made again; only what the report and the identities of later packages need is done.
        False: the package is staged in full."""
        plan, pkg = self.plan, self.plan.report.packages[n]
        last = plan.previous
        if last is None or plan.options.dry_run or not all(w.usable for w in jobs):
            return False
        if not all(w.reload is not None for w in jobs) or not self._images_as_left():
            return False  # a guide prepared anew: its bytes, settings or images changed
        homes = [w.home for w in jobs]
        if any(len(self.pending[h]) != 1 for h in homes):
            return False  # a guide shared by packages: its lock is made of all of them
        if not last.untouched(
            [pkg.output, *(w.path for w in jobs), *(plan.locks[h] for h in homes)]
        ):
            return False
        gone = {w.home: self._removals(w) for w in jobs}
        kept = {w.home: self._kept(w, plan.packages[n], gone[w.home]) for w in jobs}
        if any(k is None for k in kept.values()):
            return False
        if not self.ids.keep_as_left([g for k in kept.values() for g in k or ()]):
            return False  # an id is this build's elsewhere already: the notes change
        for work in jobs:
            self._report_as_left(work, kept[work.home] or [], gone[work.home])
        pkg.ready = pkg.unchanged = True
        self.staged.append(n)
        for work in jobs:
            work.packed = b""
            self.pending[work.home].discard(n)
            self.txn.clean(plan.locks[work.home])
        return True

    def _images_as_left(self) -> bool:
        """Whether every image the last clean build's guides showed is as it was then."""
        if self._images is None:
            last = self.plan.previous
            self._images = last is not None and last.untouched(map(Path, last.deps))
        return self._images

    def _kept(self, work: GuideWork, config: PackageConfig, gone: Removals) -> list[str] | None:
        """The notes a guide's cards continue, when they and the notes it lost are those of
        the last clean build (None: they are not)."""
        memory, name = self.plan.memory, deck_name(config, work.title)
        guids = [g for g in work.matched if g is not None]
        if len(guids) != len(work.matched):
            return None  # a new card
        if any(memory.notes[g].removed or memory.notes[g].deck != name for g in guids):
            return None
        mark = guide_mark(guids, _lost(gone), name)
        if self.plan.previous is None or self.plan.previous.marks.get(str(work.home)) != mark:
            return None
        self.marks[work.home] = mark
        return guids

    def settle(self) -> None:
        """Leave out every deck a guide of which has a lock that could not be staged (and every
        lock of a guide in such a deck): a deck and its lock go together."""
        plan, dropped, changed = self.plan, set(), True
        while changed:
            changed = False
            for n in self.staged:
                homes = set(plan.homes[n])
                if n in dropped or not homes & self.failed:
                    continue
                dropped.add(n)
                self.failed.update(homes)
                changed = True
                pkg = plan.report.packages[n]
                self.txn.discard(pkg.output)
                if not pkg.problems:
                    pkg.problems.append(Diagnostic.error(plan.packages[n].loc,
                        f"{pkg.config.output} not written: a guide of it shares a lock file "
                        "that could not be written (see above)"))  # fmt: skip
        self.staged = [n for n in self.staged if n not in dropped]
        for home in self.failed:
            if home in plan.locks:
                self.txn.discard(plan.locks[home])

    def record(self) -> None:
        """Stage the output folder's record of its decks (:mod:`guidedeck.ownership`) with the
        digest of each deck this build puts or leaves in place."""
        if not self.staged:
            return
        memory, written = self.plan.memory, {}
        for n in self.staged:
            name = self.plan.report.packages[n].output.name
            mine = self.built[n][1] if n in self.built else memory.deck_digests.get(name)
            if mine is not None:
                written[name] = mine
        text = memory.record.updated(written)
        try:
            if text is not None:
                self.txn.stage(memory.record.path, text)
        except OSError as exc:  # the decks' own marks still tell them apart
            self.plan.report.notices.append(f"{memory.record.path}: not written: {exc.strerror}")

    def _guide(
        self, work: GuideWork, config: PackageConfig, pkg: PackageReport,
        decks: dict[str, list[NoteData]], media: dict[str, Path],
    ) -> bool:  # fmt: skip
        """One guide's notes into ``decks`` (False: it cannot be built, said in ``pkg``)."""
        plan, home = self.plan, work.home
        where = plan.locks[home]
        before = self.notetypes.get(home, plan.memory.notetypes(home))
        types, refused = notetype_entries(before, config.kinds, plan.options.now, where)
        if refused:
            pkg.problems.extend(refused)
            return False
        self.notetypes[home] = types
        name = deck_name(config, work.title)
        try:
            ready = work.unpack()
        except GuideChangedError:
            pkg.problems.append(
                Diagnostic.error(
                    SourceLoc(str(work.path), 1),
                    "the guide changed during the build (and the build cache was removed); "
                    "nothing written for it: build again",
                )
            )
            return False
        media.update(ready.media)
        notes, entries = self.ids.notes_of(work, ready, name)
        decks.setdefault(name, []).extend(notes)
        self.entries[home].extend(entries)
        gone = self._removals(work)
        self._report_removals(work, gone)
        self.marks[home] = guide_mark([n.guid for n in notes], _lost(gone), name)
        return True

    def _removals(self, work: GuideWork) -> Removals:
        plan = self.plan
        kinds = {k.value for k in work.kinds}
        return removals(plan.memory, work.home, plan.claimed, kinds, self.kinds_of[work.home])

    @staticmethod
    def _report_removals(work: GuideWork, gone: Removals) -> None:
        work.report.removed = [r.entry for r in gone.left_now]
        work.report.removed_before = [r.entry for r in gone.left_before]
        work.report.dropped = [r.entry for r in gone.dropped]
        work.report.status["removed"] = len(gone.left_now)

    def _report_as_left(self, work: GuideWork, guids: list[str], gone: Removals) -> None:
        """A guide left as it was: every note unchanged, as :meth:`_guide` would report."""
        kinds = [CardKind(self.plan.memory.notes[g].entry.kind) for g in guids]
        work.report.status["unchanged"] += len(kinds)
        work.report.counts.update(kinds)
        self._report_removals(work, gone)

    def _no_cards(self, config: PackageConfig, pkg: PackageReport) -> None:
        if config.scanned:
            # a file of a scanned folder that teaches nothing (an index, a list of questions
            # without answers): said, not an error
            pkg.skipped = True
            self.plan.report.notices.append(made_no_cards(config))
        else:
            pkg.problems.append(
                Diagnostic.error(config.loc, f"no cards for {config.output}; nothing written")
            )

    def _deck(
        self, n: int, jobs: list[GuideWork], decks: dict[str, list[NoteData]],
        media: dict[str, Path],
    ) -> bool:  # fmt: skip
        """Package and stage the deck (unless the one in place is it); False if it cannot be."""
        config, pkg = self.plan.packages[n], self.plan.report.packages[n]
        mtimes: dict[str, int] = {}
        for work in jobs:
            for kind_name, entry in self.notetypes[work.home].items():
                if kind_name in config.kinds:
                    mtimes[kind_name] = max(mtimes.get(kind_name, 0), entry.mtime)
        deck_data = [
            DeckData(deck_id(name), name, "Built by guidedeck.", tuple(notes))
            for name, notes in decks.items()
        ]
        inputs = deck_digest(_plain(deck_data), sorted(mtimes.items()), sorted(media), MARK_FORMAT)
        try:
            if self.plan.cache.deck_unchanged(pkg.output, inputs):
                pkg.unchanged = True
            else:
                mark = ownership.mark(pkg.output.name)
                data = package_bytes(make_package(deck_data, mtimes), 0, media, mark)
                self.txn.stage(pkg.output, data)
                self.built[n] = (inputs, ownership.digest(data))
        except OSError as exc:
            pkg.problems.append(
                Diagnostic.error(SourceLoc(str(pkg.output), 1), f"cannot write: {exc.strerror}")
            )
            self.failed.update(work.home for work in jobs)
            return False
        return True

    def _lock(self, work: GuideWork, pkg: PackageReport) -> None:
        """Stage the guide's lock: this build's notes, notes of kinds not built (kept as they
        were), and removed notes."""
        plan, home = self.plan, work.home
        built = self.kinds_of[home]
        gone = removals(plan.memory, home, plan.claimed, built, built)
        memory = plan.memory
        kept = [memory.entry(r) for r in gone.dropped]
        removed = [memory.entry(r) for r in (*gone.left_now, *gone.left_before)]
        lock = Lock(work.path.name, self.notetypes[home], [*self.entries.pop(home), *kept], removed)
        text, where = lock.to_text(), plan.locks[home]
        self.txn.clean(where)
        if text_digest(text) == memory.lock_digests.get(home, ""):
            return  # a rebuild without edits leaves the file (and its mtime) alone
        try:
            self.txn.stage(where, text.encode("utf-8"))
        except OSError as exc:
            pkg.problems.append(
                Diagnostic.error(SourceLoc(str(where), 1), f"cannot write: {exc.strerror}")
            )
            self.failed.add(home)


def _lost(gone: Removals) -> list[str]:
    """The GUIDs of the notes a guide lost (now, before, or of a kind no longer built)."""
    return [r.entry.guid for r in (*gone.left_now, *gone.left_before, *gone.dropped)]


def stage(staging: Staging) -> None:
    """Stage every package not staged yet, then what depends on all of them (see the module's
    docstring); the caller rolls ``staging.txn`` back unless it commits."""
    for n in range(staging.done, len(staging.plan.packages)):
        staging.package(n)
    staging.settle()
    staging.record()


_NOTE_FIELDS = tuple(f.name for f in fields(NoteData))
_DECK_FIELDS = tuple(f.name for f in fields(DeckData) if f.name != "notes")


def _plain(decks: list[DeckData]) -> list[tuple[object, ...]]:
    """Every field of ``decks`` and their notes as plain tuples, whose ``repr`` (the deck's
    digest) is made in C: the dataclasses' own ``repr`` cost a tenth of a cached rebuild."""
    return [
        (*(getattr(d, f) for f in _DECK_FIELDS),
         [tuple(getattr(n, f) for f in _NOTE_FIELDS) for n in d.notes])
        for d in decks
    ]  # fmt: skip


__all__ = ["DECK_ID_BASE", "Staging", "deck_id", "deck_name", "stage"]
