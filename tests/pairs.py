"""Deck/lock pairs as files on disk: are they consistent, and is anything half-written left?"""

from __future__ import annotations

from pathlib import Path

from guidedeck.lockfile import LOCK_SUFFIX, read_lock
from guidedeck.memory import read_deck
from guidedeck.transaction import JOURNAL


def leftovers(*folders: Path) -> list[Path]:
    """Temporary files and journals a build should never leave behind."""
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [p for p in folder.iterdir() if p.name.endswith(".tmp") or p.name == JOURNAL]
    return sorted(found)


def pair_problems(guide: Path, deck: Path) -> list[str]:
    """How ``guide``'s lock and the notes ``deck`` holds for it disagree ([] when they agree).

    A pair agrees when every note of the guide in the deck is in the lock, live, with the same
    GUID, note id and mtime, and the lock has no live note the deck lacks.
    """
    lock_file = guide.with_name(guide.stem + LOCK_SUFFIX)
    lock, _ = read_lock(lock_file)
    in_lock = {(e.guid, e.nid, e.mtime) for e in lock.notes}
    in_deck = {
        (n.guid, n.nid, n.mtime) for n in read_deck(deck) if n.fields.get("Source") == guide.name
    }
    problems = []
    if in_deck - in_lock:
        problems.append(f"{len(in_deck - in_lock)} deck note(s) not in {lock_file.name}")
    if in_lock - in_deck:
        problems.append(f"{len(in_lock - in_deck)} lock note(s) not in {deck.name}")
    return problems
