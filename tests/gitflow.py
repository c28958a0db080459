"""Authors as git users: guide folders in real git repositories, decks imported into real Anki.

A :class:`User` has a clone, an output folder and an Anki collection. :meth:`User.sync` builds,
imports with Anki's defaults, answers every new card and measures what the import did to the
items the guides hold. Items are followed by tokens (``qs12z``, ``qz3z``, ``rw7z``: see
:mod:`tests.test_updates_property`) read from the guide files themselves, so whatever git did
to the files (rename, revert, merge) the measure is of what is really in them.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import assert_healthy_import, fresh_collection, import_package
from tests.test_updates import answer_every_card, review_state

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}
TOKEN = re.compile(r"\b(qs|qz|rw)\d+z\b")
FIELD_OF = {"qs": "Scenario", "qz": "Question", "rw": "Subject"}


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in ``repo`` with a fixed identity and no user configuration."""
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stdout}{done.stderr}")
    return done


def new_repo(path: Path) -> Path:
    """An empty repository whose build output is ignored, as guidedeck's own README advises."""
    path.mkdir(parents=True)
    git(path, "init", "-q")
    (path / ".gitignore").write_text("/build/\n", encoding="utf-8")
    return path


def commit_all(repo: Path, message: str) -> bool:
    """Stage everything and commit; False (and no commit) when nothing changed."""
    git(repo, "add", "-A")
    if git(repo, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return False
    git(repo, "commit", "-q", "-m", message)
    return True


def live_tokens(folder: Path) -> dict[str, str]:
    """Every item token in the guides below ``folder``, with the field it shows in."""
    found: dict[str, str] = {}
    for guide in sorted(folder.rglob("*.md")):
        for m in TOKEN.finditer(guide.read_text(encoding="utf-8")):
            found[m.group(0)] = FIELD_OF[m.group(1)]
    return found


@dataclass
class Measure:
    """What one import did, item by item."""

    added: int
    updated: int
    lost: int
    """Items whose reviewed note was left behind: they now live on another note."""
    duplicated: int
    """Items held by more than one note."""
    swapped: int
    """Notes that now hold a different item than the one they were made for."""
    reviews_changed: int
    """Reviewed cards whose scheduling state the import changed."""

    def clean(self) -> bool:
        """Nothing lost, duplicated, swapped or unscheduled."""
        return not (self.lost or self.duplicated or self.swapped or self.reviews_changed)


@dataclass
class User:
    """A person with a working copy of the guides, an output folder and an Anki collection."""

    repo: Path
    out: Path
    anki: Path
    guides: str = "guides"
    col: Any = field(init=False)
    holder: dict[str, int] = field(default_factory=dict)
    """Item token -> the note that first held it."""
    held: dict[int, str] = field(default_factory=dict)
    """Note id -> the item token it was made for."""
    output: str = ""

    def __post_init__(self) -> None:
        self.col = fresh_collection(self.anki)

    def build(self, *extra: str, expect: int = 0) -> str:
        """``guidedeck build <repo>/guides --out <out>``; the output text."""
        args = ["build", str(self.repo / self.guides), "--out", str(self.out), "-j", "1", *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == expect, result.output
        self.output = result.output
        return result.output

    def sync(self, *extra: str) -> Measure:
        """Build, import every deck, answer new cards; measure what happened to the items."""
        self.build(*extra)
        before = review_state(self.col)
        added = updated = 0
        for apkg in sorted(self.out.glob("*.apkg")):
            log = import_package(self.col, apkg)
            assert len(log.conflicting) == 0
            added += len(log.new)
            updated += len(log.updated)
        after = review_state(self.col)
        reviews_changed = sum(1 for nid, state in before.items() if after.get(nid) != state)
        measure = self._measure(added, updated, reviews_changed)
        answer_every_card(self.col)
        return measure

    def _measure(self, added: int, updated: int, reviews_changed: int) -> Measure:
        holders: dict[str, list[int]] = {}
        for token, field_name in live_tokens(self.repo / self.guides).items():
            holders[token] = list(self.col.find_notes(f'"{field_name}:*{token}*"'))
        lost = duplicated = 0
        for token, nids in holders.items():
            duplicated += len(nids) > 1
            first = self.holder.setdefault(token, nids[0]) if nids else None
            if first is not None and first not in nids:
                lost += 1
        swapped = 0
        for token, nids in holders.items():
            for nid in nids:
                made_for = self.held.setdefault(nid, token)
                swapped += made_for != token and made_for in holders
        return Measure(added, updated, lost, duplicated, swapped, reviews_changed)

    def healthy(self) -> None:
        """Every deck of the output folder imports cleanly and renders in Anki."""
        for apkg in sorted(self.out.glob("*.apkg")):
            log = import_package(self.col, apkg)
            count = len(log.new) + len(log.updated) + len(log.duplicate)
            assert_healthy_import(self.col, log, count, self.col.note_count())

    def note_counts(self) -> Counter[str]:
        """Notes in the collection per notetype."""
        return Counter(self.col.get_note(n).note_type()["name"] for n in self.col.find_notes(""))
