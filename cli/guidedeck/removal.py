"""What "removed" means: the one rule ``build``, ``check``, the summary and ``push`` follow.

A note remembered for a guide that no card of this build continues is, for that guide:

- **removed** when its kind is one the package makes: its item left the guide. It is *left now*
  when the user has it and was not told yet (the summary reports it), *left before* when an
  earlier build recorded it as removed (or the user never imported it); push's ``--removed``
  policy acts on both, if the collection holds them.
- **dropped** when its kind is one the guide's packages no longer make (``kinds:``): reported as
  such, kept in the lock, never acted on.

A note whose guide is gone and that no card took over is *removed elsewhere*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from guidedeck.lockfile import NoteEntry
from guidedeck.memory import Memory, Remembered


@dataclass
class Removals:
    """One guide's remembered notes that this build does not continue, by what they are."""

    left_now: list[Remembered] = field(default_factory=list)
    left_before: list[Remembered] = field(default_factory=list)
    dropped: list[Remembered] = field(default_factory=list)


def removals(
    memory: Memory,
    home: Path,
    claimed: Collection[str],
    kinds: Collection[str],
    built: Collection[str],
) -> Removals:
    """The notes of guide ``home`` that no card continues: removed from a package making
    ``kinds``, or of a kind none of the guide's packages (``built``) makes any more."""
    out = Removals()
    for r in memory.home_notes(home):
        if r.entry.guid in claimed:
            continue
        if r.entry.kind not in built:
            if not r.removed:
                out.dropped.append(r)
        elif r.entry.kind in kinds:
            fresh = not r.removed and memory.imported(r)
            (out.left_now if fresh else out.left_before).append(r)
    return out


def removed_elsewhere(memory: Memory, claimed: Collection[str]) -> dict[str, list[NoteEntry]]:
    """Notes of gone guides that no card of this build took over, by the file that knew them."""
    by_origin: dict[str, list[NoteEntry]] = defaultdict(list)
    for r in memory.notes.values():
        gone = r.home is None and r.entry.guid not in claimed and not r.removed
        if gone and memory.imported(r):
            by_origin[r.origin.name].append(r.entry)
    return dict(sorted(by_origin.items()))


__all__ = ["Removals", "removals", "removed_elsewhere"]
