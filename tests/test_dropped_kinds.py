"""A kind taken out of a package's ``kinds:`` is reported as dropped, never deleted (issue #22).

"Removed" has one definition (:mod:`guidedeck.removal`), used by build, check, the summary and
push. Here a user pushes the sample guide with every kind, studies, then keeps only quizzes:
every command must say the other notes belong to a kind no longer built, and ``push --removed
delete --yes`` must delete none of them, in a real Anki collection.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from guidedeck.lockfile import read_lock
from tests.anki_engine import fresh_collection
from tests.conftest import ROOT

SAMPLE = ROOT / "deck_source" / "backend-basics.md"
CONFIG = "version: 1\npackages:\n  - guides: [backend-basics.md]\n    output: backend.apkg\n"


class Workspace:
    def __init__(self, root: Path) -> None:
        self.guides, self.out = root / "guides", root / "out"
        self.guides.mkdir()
        shutil.copyfile(SAMPLE, self.guides / SAMPLE.name)
        self.configure("")
        self.collection = root / "anki" / "collection.anki2"
        fresh_collection(self.collection.parent).close()

    def configure(self, kinds: str) -> None:
        (self.guides / "decks.yaml").write_text(CONFIG + kinds, encoding="utf-8")

    def run(self, *args: str) -> tuple[int, str]:
        folder = [str(self.guides), "--out", str(self.out)]
        extra = ["--collection", str(self.collection)] if args[0] == "push" else []
        result = CliRunner().invoke(main, [*args[:1], *folder, *args[1:], *extra])
        assert "Traceback" not in result.output, result.output
        return result.exit_code, result.output

    def notes(self) -> dict[str, tuple[str, int]]:
        """``ID`` -> (notetype, reviews) of every guidedeck note in the collection."""
        from anki.collection import Collection

        col = Collection(str(self.collection))
        try:
            out = {}
            for nid in col.find_notes('"note:guidedeck*"'):
                note = col.get_note(nid)
                reviews = sum(card.reps for card in note.cards())
                out[note["ID"]] = (note.note_type()["name"], reviews)
            return out
        finally:
            col.close()

    def study(self) -> None:
        from anki.collection import Collection

        col = Collection(str(self.collection))
        try:
            for deck in col.decks.all_names_and_ids():
                config = col.decks.config_dict_for_deck_id(deck.id)
                config["new"]["perDay"] = 9_999
                col.decks.update_config(config)
            for did in col.db.list("select distinct did from cards"):
                col.decks.select(did)
                while (card := col.sched.getCard()) is not None:
                    col.sched.answerCard(card, 4)
        finally:
            col.close()


@pytest.fixture
def studied(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path)
    code, output = ws.run("push")
    assert code == 0, output
    ws.study()
    ws.configure("    kinds: [quiz]\n")
    return ws


def _dropped_line(output: str) -> str:
    (line,) = [line for line in output.splitlines() if "no longer built" in line]
    return line


def test_every_command_reports_the_dropped_kinds_and_push_deletes_none(
    studied: Workspace,
) -> None:
    ws = studied
    before = ws.notes()
    others = {nid for nid, (notetype, _reps) in before.items() if notetype != "guidedeck Quiz"}
    assert len(others) > 10 and all(reps > 0 for _type, reps in before.values())
    expected = f"{len(others)} note(s) of backend-basics.md are of a kind no longer built"

    code, output = ws.run("build", "--dry-run")
    assert code == 0, output
    assert _dropped_line(output).startswith(expected)
    assert "contrast, fact, scenario" in _dropped_line(output)
    assert "no longer in backend-basics.md" not in output  # none removed

    code, output = ws.run("check")
    assert code == 0, output
    assert _dropped_line(output).startswith(expected)

    code, output = ws.run("push", "--dry-run", "--removed", "delete")
    assert code == 0, output
    assert _dropped_line(output).startswith(expected)
    assert "removed note(s)" not in output
    assert ws.notes() == before

    code, output = ws.run("push", "--removed", "delete", "--yes")
    assert code == 0, output
    assert _dropped_line(output).startswith(expected)
    assert "removed note(s)" not in output
    assert ws.notes() == before  # 0 deleted, every review kept

    # the lock keeps the dropped notes as live notes: taking the kinds back finds them again
    lock, _text = read_lock(ws.guides / "backend-basics.guidedeck.lock")
    assert others <= {e.id for e in lock.notes} and not lock.removed
    ws.configure("")
    code, output = ws.run("push")
    assert code == 0, output
    assert ws.notes() == before
    assert "no longer built" not in output
