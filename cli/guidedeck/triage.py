"""``guidedeck triage``: the notes learners flag, mark or keep failing, traced back to the lines
of the guides they came from, so that the author fixes the guide where it is unclear or wrong.

Read-only: a collection file is read from a copy (Anki's engine may upgrade what it opens), a
running Anki through AnkiConnect's reading actions only; the guides' notes are known by the
``ID`` field a build into the output folder gives them (a dry run).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidedeck.cache import Cache
from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic
from guidedeck.identity import field_text

if TYPE_CHECKING:
    from guidedeck.push import Way
    from guidedeck.targets import Target

FLAGS = {1: "red", 2: "orange", 3: "green", 4: "blue", 5: "pink", 6: "turquoise", 7: "purple"}
ASKS = ("Question", "Title", "Subject", "Section", "Guide")
"""The fields that say what a note asks, the first one filled in (quiz, scenario, fact, then a
contrast's question)."""


@dataclass(frozen=True, slots=True)
class Trouble:
    """A note of the guides that learners had trouble with."""

    source: str
    """``path:line`` of the block the note came from."""
    kind: str
    question: str
    lapses: int
    flag: str
    marked: bool
    leech: bool

    def rank(self) -> tuple[int, int, int, int]:
        """Most trouble first: leeches, then lapses, then a flag, then a mark."""
        return (-self.leech, -self.lapses, -bool(self.flag), -self.marked)

    def line(self) -> str:
        """``path:line: kind: question (lapses N, flag F, leech, marked)``."""
        said = [f"lapses {self.lapses}"]
        said += [f"flag {self.flag}"] if self.flag else []
        said += ["leech"] * self.leech + ["marked"] * self.marked
        return f"{self.source}: {self.kind}: {self.question} ({', '.join(said)})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def known_notes(
    packages: Sequence[PackageConfig], decks_dir: Path, cache: Cache | None
) -> tuple[dict[str, tuple[str, str]], list[Diagnostic]]:
    """Every note the guides make, by ``ID`` field: its ``path:line`` and kind (nothing
    written)."""
    from guidedeck.commit import matched_build, notes_by_guide
    from guidedeck.plan import BuildOptions

    known: dict[str, tuple[str, str]] = {}
    options = BuildOptions(decks_dir, False, dry_run=True)
    with matched_build(packages, options, cache, finish_interrupted=False, keep_cache=True) as (
        plan,
        ids,
    ):
        for _config, _deck, ready, notes in notes_by_guide(plan, ids):
            for card, note in zip(ready.cards, notes, strict=True):
                known[note.fields["ID"]] = (card.source, card.kind.value)
    return known, list(dict.fromkeys(plan.report.diagnostics))


def troubles(target: Target, known: dict[str, tuple[str, str]], lapses: int) -> list[Trouble]:
    """The notes of ``known`` in the collection that are flagged, marked, leeches or lapsed at
    least ``lapses`` times, most trouble first."""
    found: list[Trouble] = []
    for card in target.studied(lapses):
        if card.id_field not in known:
            continue
        source, kind = known[card.id_field]
        found.append(Trouble(
            source, kind, _asks(card.fields), card.lapses, FLAGS.get(card.flag, ""),
            card.marked, card.leech,
        ))  # fmt: skip
    return sorted(found, key=lambda t: (t.rank(), t.source))


def troubles_in(way: Way, known: dict[str, tuple[str, str]], lapses: int) -> list[Trouble]:
    """:func:`troubles` of the collection ``way`` reaches: a running Anki through AnkiConnect,
    or a collection file, read from a copy (Anki closed)."""
    from guidedeck.connect_target import ConnectTarget
    from guidedeck.push import open_collection, scratch_copy
    from guidedeck.targets import EngineTarget

    if way.client is not None:
        return troubles(ConnectTarget(way.client), known, lapses)
    assert way.collection is not None
    with ExitStack() as stack:
        col = open_collection(scratch_copy(way.collection, stack))
        stack.callback(col.close)
        return troubles(EngineTarget(col), known, lapses)


def _asks(fields: dict[str, str]) -> str:
    for name in ASKS:
        text = " ".join(field_text(fields.get(name, "")).split())
        if text:
            return text if len(text) <= 100 else text[:99] + "…"
    return ""


__all__ = ["Trouble", "known_notes", "troubles", "troubles_in"]
