"""The git moves of issue #11 on real guides of the corpus, measured note by note in Anki.

``aws.md`` (and ``gcp.md`` for a moved question) are committed, built, imported and every card
answered; then each move is made and the decks rebuilt and re-imported. Measured per move: notes
added, updated, orphaned (a reviewed note no deck holds any more while its item is still there)
and duplicated (two notes of one item, by notetype and content). The figures are written to
``test-artifacts/identity-corpus.json``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.anki_engine import import_package
from tests.conftest import CORPUS, ROOT
from tests.gitflow import User, commit_all, git, new_repo
from tests.test_updates import answer_every_card, review_state

ARTIFACT = ROOT / "test-artifacts" / "identity-corpus.json"
QUESTION = re.compile(r"(?ms)^### Question \d+:.*?^---\n")


def _edit_round(text: str, n: int) -> str:
    """Ordinary edits any guide of the family takes: a table cell and a new Quick Check."""
    lines = text.splitlines(keepends=True)
    rows = [i for i, ln in enumerate(lines) if ln.startswith("|") and not set(ln) <= set("|-: \n")]
    row = rows[len(rows) // 2]
    lines[row] = lines[row].rstrip("\n").rstrip("|").rstrip() + f" (edit {n}) |\n"
    quiz = (f"\n### Quick Check\n\n**Which edit round is this ({n})?**\n\n-> A. Round {n}\n"
            f"   B. Round {n + 1}\n\n<details>\n<summary>See Answer</summary>\n\nIt is round "
            f"{n}.\n\n</details>\n")  # fmt: skip
    return "".join(lines) + quiz


class Corpus:
    """A repository of corpus guides and one user who reviewed every card."""

    def __init__(self, root: Path, *names: str) -> None:
        self.repo = new_repo(root / "repo")
        (self.repo / "guides").mkdir()
        for name in names:
            shutil.copyfile(CORPUS / name, self.repo / "guides" / name)
        self.user = User(self.repo, self.repo / "build", root / "anki")
        self.measure()
        commit_all(self.repo, "guides and locks")

    def measure(self) -> dict[str, int]:
        """Build, import every deck, count what happened, answer new cards."""
        user = self.user
        user.build()
        before = review_state(user.col)
        in_decks: set[int] = set()
        added = updated = 0
        for apkg in sorted(user.out.glob("*.apkg")):
            log = import_package(user.col, apkg)
            assert len(log.conflicting) == 0
            added, updated = added + len(log.new), updated + len(log.updated)
            in_decks |= {n.id.nid for n in (*log.new, *log.updated, *log.duplicate)}
        after = review_state(user.col)
        content: Counter[tuple[str, str]] = Counter()
        for nid in in_decks:
            note = user.col.get_note(nid)
            fields = dict(note.items())
            fields.pop("ID", None)
            content[(note.note_type()["name"], json.dumps(sorted(fields.items())))] += 1
        answer_every_card(user.col)
        return {
            "added": added,
            "updated": updated,
            "orphaned": sum(1 for nid in before if nid not in in_decks),
            "duplicated": sum(n - 1 for n in content.values()),
            "reviews_changed": sum(1 for nid, s in before.items() if after.get(nid) != s),
        }


def _record(name: str, figures: dict[str, Any]) -> None:
    ARTIFACT.parent.mkdir(exist_ok=True)
    data = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    data[name] = figures
    ARTIFACT.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


MOVES = ["rename-with-lock", "rename-without-lock", "lock-deleted", "fresh-clone-no-lock",
         "revert", "question-moved"]  # fmt: skip


@pytest.mark.corpus
@pytest.mark.parametrize("move", MOVES)
def test_corpus_guide_survives(tmp_path: Path, corpus: list[Path], move: str) -> None:
    names = ("aws.md", "gcp.md") if move == "question-moved" else ("aws.md",)
    if not all((CORPUS / n).is_file() for n in names):
        pytest.skip("aws.md / gcp.md not in the corpus")
    c = Corpus(tmp_path, *names)
    guides, notes = c.repo / "guides", c.user.col.note_count()
    expect_added = 0
    if move == "rename-with-lock":
        git(c.repo, "mv", "guides/aws.md", "guides/amazon.md")
        git(c.repo, "mv", "guides/aws.guidedeck.lock", "guides/amazon.guidedeck.lock")
    elif move == "rename-without-lock":
        git(c.repo, "mv", "guides/aws.md", "guides/amazon.md")
    elif move in ("lock-deleted", "fresh-clone-no-lock"):
        (guides / "aws.md").write_text(_edit_round((guides / "aws.md").read_text(), 1))
        assert c.measure()["added"] == 1
        (guides / "aws.guidedeck.lock").unlink()
        if move == "fresh-clone-no-lock":
            (c.repo / ".gitignore").write_text("/build/\n*.guidedeck.lock\n")
            commit_all(c.repo, "edit; the lock is no longer committed")
            clone = tmp_path / "clone"
            git(tmp_path, "clone", "-q", str(c.repo), str(clone))
            c.user.repo = clone  # same output folder: the decks the user imported
            guides = clone / "guides"
        (guides / "aws.md").write_text(_edit_round((guides / "aws.md").read_text(), 2))
        notes, expect_added = c.user.col.note_count(), 1
    elif move == "revert":
        edited = _edit_round((guides / "aws.md").read_text(), 1)
        (guides / "aws.md").write_text(edited)
        c.measure()
        commit_all(c.repo, "edit")
        git(c.repo, "revert", "--no-edit", "HEAD")
        notes = c.user.col.note_count()
    elif move == "question-moved":
        aws = (guides / "aws.md").read_text()
        section = QUESTION.findall(aws)[-1]
        (guides / "aws.md").write_text(aws.replace(section, "", 1))
        (guides / "gcp.md").write_text((guides / "gcp.md").read_text() + "\n" + section)
    figures = c.measure()
    _record(move, {**figures, "notes_before": notes})
    # a revert of an edit that added a quiz removes that quiz again: its note is the one orphan
    expect_orphaned = 1 if move == "revert" else 0
    assert figures["orphaned"] == expect_orphaned, figures
    assert figures["duplicated"] == figures["reviews_changed"] == 0, figures
    assert figures["added"] == expect_added, figures
    if move == "revert":
        assert figures["updated"] >= 2, figures  # the edited row's table is back as it was
        search = next(ln.strip() for ln in c.user.output.splitlines() if ln.startswith("  "))
        (gone,) = c.user.col.find_notes(search)
        assert "Which edit round is this (1)?" in c.user.col.get_note(gone)["Question"]
    else:
        assert "no longer in" not in c.user.output
    c.user.col.close()
