"""The pipeline, start to end: read guides, parse, render fields, package, write.

Everything for a package is gathered and rendered before anything is written (mkdocs' rule), and a
package is written only when all its guides were read without an error (or, with ``strict``,
without a warning); otherwise the deck built last time stays as it was.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic, Severity, SourceLoc
from guidedeck.guides import GuideFile, read_guide
from guidedeck.identity import card_keys, guid_for_key, note_id_for_key
from guidedeck.models import Card, CardKind, Guide
from guidedeck.package import DeckData, NoteData, make_package, package_bytes, write_atomic
from guidedeck.parse.extract import slugify
from guidedeck.render import render

DECK_ID_BASE = 1_400_000_000_000


@dataclass
class GuideReport:
    """What one guide contributed to a build."""

    path: Path
    title: str = ""
    counts: Counter[CardKind] = field(default_factory=Counter)
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

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem of the build, in package order."""
        return [d for p in self.packages for d in p.diagnostics]


def deck_name(config: PackageConfig, guide: Guide, prefix: str) -> str:
    """``config.deck``, else ``<prefix>::<guide title>`` (``::`` in titles would nest decks)."""
    if config.deck:
        return config.deck
    return f"{prefix}::{guide.title.replace('::', ':')}"


def deck_id(name: str) -> int:
    """A stable deck id from the deck's name (Anki matches imported decks by name anyway)."""
    return DECK_ID_BASE + note_id_for_key("deck:" + name) % (2**36)


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


def guide_notes(
    guide: Guide, kinds: Sequence[CardKind], tags: Sequence[str], now: int
) -> list[NoteData]:
    """Render every card of ``guide`` whose kind is wanted into note data."""
    cards = [c for c in guide.cards if c.kind in kinds]
    notes = []
    for card, key in zip(cards, card_keys(guide, cards), strict=True):
        notes.append(
            NoteData(
                kind=card.kind,
                fields=render(card, guide, key),
                tags=note_tags(guide, card, tags),
                guid=guid_for_key(key),
                note_id=note_id_for_key(key),
                mtime=now,
            )
        )
    return notes


def build(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    *,
    prefix: str,
    strict: bool = False,
    on_guide: Callable[[Path], None] | None = None,
) -> BuildReport:
    """Build and write every package; return what happened (never raises for bad guides)."""
    started = time.perf_counter()
    report = BuildReport()
    now = int(time.time())
    for config in packages:
        pkg = PackageReport(config, out_dir / config.output)
        report.packages.append(pkg)
        decks: dict[str, list[NoteData]] = {}
        usable = True
        for path in config.guides:
            if on_guide is not None:
                on_guide(path)
            read: GuideFile = read_guide(path)
            guide_report = GuideReport(path, diagnostics=read.diagnostics)
            pkg.guides.append(guide_report)
            blocking = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
            if read.result is None or any(d.severity in blocking for d in read.diagnostics):
                usable = False
                continue
            guide = read.result.guide
            guide_report.title = guide.title
            notes = guide_notes(guide, config.kinds, config.tags, now)
            guide_report.counts.update(n.kind for n in notes)
            decks.setdefault(deck_name(config, guide, prefix), []).extend(notes)
        if not usable:
            continue
        if not any(decks.values()):
            pkg.problems.append(
                Diagnostic.warning(config.loc, f"no cards for {config.output}; nothing written")
            )
            continue
        deck_data = [
            DeckData(deck_id(name), name, "Built by guidedeck.", tuple(notes))
            for name, notes in decks.items()
        ]
        package = make_package(deck_data, dict.fromkeys(CardKind, now))
        try:
            write_atomic(pkg.output, package_bytes(package, now))
        except OSError as exc:
            pkg.problems.append(
                Diagnostic.error(SourceLoc(str(pkg.output), 1), f"cannot write: {exc.strerror}")
            )
            continue
        pkg.written = True
    report.seconds = time.perf_counter() - started
    return report
