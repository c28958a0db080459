"""The *report* stage: what a build did, for the summary, the exit code and push.

Filled as the stages go; :func:`finish` adds, last, the error of every package that was meant to
be written and was not.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic, Severity
from guidedeck.identity import anki_search
from guidedeck.kinds import CardKind
from guidedeck.lockfile import NoteEntry


@dataclass
class GuideReport:
    """What one guide contributed to a build."""

    path: Path
    title: str = ""
    counts: Counter[CardKind] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    """Notes ``added``, ``changed``, ``unchanged`` (and ``removed``) against the last build."""
    removed: list[NoteEntry] = field(default_factory=list)
    """Notes whose item left the guide since the user last imported it."""
    removed_before: list[NoteEntry] = field(default_factory=list)
    """Notes whose item had left it by an earlier build (the lock still knows them)."""
    dropped: list[NoteEntry] = field(default_factory=list)
    """Notes of kinds the package no longer makes (``kinds:``): kept, never deleted."""
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
    """The staged files were left out on purpose (push chose not to apply its plan)."""
    reused: int = 0
    """Guides taken from the cache as prepared by an earlier build."""
    prepared: int = 0
    """Guides read, parsed and rendered by this build."""
    unread: bool = False
    """Nothing had changed since the last build: no guide, deck or lock file was read
    (:mod:`guidedeck.unchanged`)."""
    started: float = field(default_factory=time.perf_counter)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem of the build, in package order."""
        return [*(d for p in self.packages for d in p.diagnostics), *self.problems]

    @property
    def failed(self) -> bool:
        """Whether any problem is an error."""
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

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

    def dropped_kinds(self) -> list[tuple[str, int, tuple[str, ...]]]:
        """Per guide: how many notes belong to kinds it no longer makes, and those kinds."""
        out = []
        for pkg in self.packages:
            for guide in pkg.guides:
                if guide.dropped:
                    kinds = tuple(sorted({e.kind for e in guide.dropped}))
                    out.append((guide.path.name, len(guide.dropped), kinds))
        return out


def made_no_cards(config: PackageConfig) -> str:
    """The notice for a file of a scanned folder that teaches nothing (said on every build)."""
    return f"{config.guides[0]}: made no cards; no deck written"


def finish(report: BuildReport, strict: bool) -> BuildReport:
    """Say of every package that was meant to be written, and was not, that it was not."""
    for pkg in report.packages:
        if pkg.written or pkg.skipped or ((report.dry_run or report.declined) and pkg.ready):
            continue
        severities = {d.severity for d in pkg.diagnostics}
        # an error fails the build already; so do warnings under --strict
        if Severity.ERROR not in severities and not (strict and Severity.WARNING in severities):
            verb = "would not be" if report.dry_run else "not"
            pkg.problems.append(
                Diagnostic.error(
                    pkg.config.loc,
                    f"{pkg.config.output} {verb} written (see the warnings above); the deck "
                    "from the last build is left as it was",
                )
            )
    report.seconds = time.perf_counter() - report.started
    return report


__all__ = ["BuildReport", "GuideReport", "PackageReport", "finish", "made_no_cards"]
