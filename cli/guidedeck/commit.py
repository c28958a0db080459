"""The *commit* stage: the staged files put in place together, and what follows from it.

:func:`staged_build` runs the stages up to staging and hands the caller a :class:`StagedBuild`:
``build`` commits it; ``push`` first reads it, plans against the Anki collection, applies the
plan, and commits only once the collection took it. Leaving the block without committing puts
nothing in place: every deck and lock stays as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from guidedeck.cache import Cache
from guidedeck.config import PackageConfig
from guidedeck.identities import Identities
from guidedeck.matching import match_across, match_as_prepared, only_at_home
from guidedeck.memory import load_memory
from guidedeck.package import NoteData
from guidedeck.plan import BuildOptions, BuildPlan, folder_locks, resolve
from guidedeck.prepare import Prepared, prepared_guides
from guidedeck.removal import removed_elsewhere
from guidedeck.report import PackageReport, finish
from guidedeck.stage import Staging, deck_name, stage
from guidedeck.transaction import Transaction, recover
from guidedeck.unchanged import record


@dataclass
class StagedBuild:
    """A build with every file staged, none in place yet."""

    plan: BuildPlan
    staging: Staging
    committed: bool = False

    def decks(self) -> list[tuple[PackageReport, Path]]:
        """Each package that will be written, with the file holding its new deck (the deck in
        place when it is unchanged)."""
        out = []
        for n in self.staging.staged:
            pkg = self.plan.report.packages[n]
            out.append((pkg, self.staging.txn.staged.get(pkg.output, pkg.output)))
        return out

    @property
    def complete(self) -> bool:
        """Every package is staged (or, a scanned file without cards, rightly skipped)."""
        staged = set(self.staging.staged)
        packages = self.plan.report.packages
        return not self.plan.report.failed and all(
            n in staged or pkg.skipped for n, pkg in enumerate(packages)
        )

    def commit(self) -> None:
        """Put every staged file in place, then tidy up after it (see :func:`_after`)."""
        self.staging.txn.commit()
        self.committed = True
        for n in self.staging.staged:
            self.plan.report.packages[n].written = True
        _after(self.plan, self.staging)

    def rollback(self) -> None:
        """Delete every staged file: nothing changes."""
        self.staging.txn.rollback()


def _after(plan: BuildPlan, staging: Staging) -> None:
    """What a commit leaves to do: remember the decks written, report notes of gone guides and
    renamed decks, and remove files of gone guides whose notes this build took over whole."""
    report, cache = plan.report, plan.cache
    for n, (inputs, written) in staging.built.items():
        if report.packages[n].written:
            cache.record_deck(report.packages[n].output, inputs, written)
    if any(work.usable for work in plan.work):
        report.removed_elsewhere = removed_elsewhere(plan.memory, plan.claimed)
    for (old, new), count in sorted(staging.ids.renamed.items()):
        report.notices.append(
            f'deck changed: {count} card(s) were in "{old}" and now belong to "{new}". Anki '
            f'keeps existing cards in "{old}" when you import (only new cards go to "{new}"): '
            f'in the Browser, search deck:"{old}", select all, Change Deck to "{new}".'
        )
    if plan.options.dry_run or report.failed:
        return  # (a warning, a broken block skipped, does not keep a gone guide's files)
    for path, guids in sorted(plan.memory.orphans.items()):
        if guids and guids <= plan.claimed:
            path.unlink(missing_ok=True)
            report.notices.append(
                f"{path}: its guide is gone and this build took over all its notes; removed"
            )


@contextmanager
def _remembered(
    packages: Sequence[PackageConfig], options: BuildOptions, cache: Cache | None,
    finish_interrupted: bool, keep_cache: bool,
) -> Iterator[BuildPlan]:  # fmt: skip
    """The stages before preparing: the plan, its folders locked until the block ends."""
    plan = resolve(packages, options, cache)  # resolve inputs
    with folder_locks(plan.folders), _finishing(plan, keep_cache):
        if finish_interrupted and (recovered := recover(options.out_dir, plan.locks.values())):
            plan.report.notices.append(f"finished {len(recovered)} file(s) of a build that "
                                       "was stopped while writing them")  # fmt: skip
        plan.memory = load_memory(plan.locks, _outputs(plan), options.out_dir, plan.roots,
                                  plan.cache)  # remember  # fmt: skip
        plan.report.problems.extend(plan.memory.problems)
        yield plan


def _matched(plan: BuildPlan, on_package: Callable[[int], None] | None = None) -> None:
    """Prepare every guide and match its cards, at home as it comes, then across guides."""
    options = plan.options
    with prepared_guides(plan.packages, options.strict, options.jobs, plan.cache) as guides:
        match_as_prepared(plan, guides, on_package)  # prepare, match at home
    match_across(plan)  # match across guides


@contextmanager
def matched_build(
    packages: Sequence[PackageConfig], options: BuildOptions, cache: Cache | None = None,
    *, finish_interrupted: bool = True, keep_cache: bool = False,
) -> Iterator[tuple[BuildPlan, Identities]]:  # fmt: skip
    """The build's stages up to matching, and the identity allocator: what ``preview`` shows.
    The folders' locks are held until the block ends; ``finish_interrupted``: first finish the
    commit of a build that was stopped; ``keep_cache``: keep a first cache even if no deck is
    written (a preview writes none)."""
    with _remembered(packages, options, cache, finish_interrupted, keep_cache) as plan:
        _matched(plan)
        yield plan, Identities(plan.memory, options.now)  # assign identities


def notes_by_guide(
    plan: BuildPlan, ids: Identities
) -> Iterator[tuple[PackageConfig, str, Prepared, list[NoteData]]]:
    """Each usable guide of a matched build: its package, deck name, prepared cards and their
    notes (identities given), in order; what ``preview`` shows and ``triage`` looks up."""
    for work in plan.work:
        if not work.usable:
            continue
        config = plan.packages[work.package]
        ready = work.unpack()
        name = deck_name(config, work.title)
        notes, _entries = ids.notes_of(work, ready, name)
        yield config, name, ready, notes


@contextmanager
def staged_build(
    packages: Sequence[PackageConfig], options: BuildOptions, cache: Cache | None = None
) -> Iterator[StagedBuild]:
    """The build's stages up to staging; the caller commits (or not). A first build (nothing
    remembered, so nothing to match across guides) stages each package as soon as its guides
    are in, while the workers prepare the next ones."""
    with _remembered(packages, options, cache, True, False) as plan:
        ids = Identities(plan.memory, options.now)  # assign identities (as each is staged)
        staged = StagedBuild(plan, Staging(plan, ids, Transaction(options.out_dir)))
        try:
            _matched(plan, staged.staging.package if only_at_home(plan) else None)
            stage(staged.staging)  # stage
            yield staged  # commit (the caller's)
            if staged.committed and not options.dry_run:  # kept while the folders are locked
                record(plan.report, packages, options.out_dir, options.roots, options.strict,
                       plan.cache, staged.staging.marks, plan.previous)  # fmt: skip
        finally:
            if not staged.committed:  # failed, interrupted or declined: every file as it was
                staged.rollback()
                plan.report.declined = not options.dry_run
            plan.report.reused, plan.report.prepared = plan.cache.hits, plan.cache.misses
            if staged.committed and not options.dry_run:
                plan.cache.prune(time.time())
    finish(plan.report, options.strict)  # report


@contextmanager
def _finishing(plan: BuildPlan, keep: bool) -> Iterator[None]:
    """Whatever happens, the cache files of a first build are kept only if it wrote decks (or
    ``keep``)."""
    try:
        yield
    finally:
        plan.cache.finish(keep=keep or any(p.written for p in plan.report.packages))


def _outputs(plan: BuildPlan) -> dict[str, list[Path]]:
    return {c.output: list(homes) for c, homes in zip(plan.packages, plan.homes, strict=True)}


__all__ = ["StagedBuild", "matched_build", "staged_build"]
