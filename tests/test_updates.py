"""Rebuilding after guide edits, judged in the real Anki engine after the user reviewed every card.

v1 of a fixture guide is built, imported, every card answered once through the v3 scheduler;
then each edit of ``fixtures/updates/edits.yaml`` is applied, the deck rebuilt and re-imported with
Anki's default options (update notes and notetypes if newer).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from anki.collection import Collection
from anki.scheduler.v3 import CardAnswer
from click.testing import CliRunner

from guidedeck.cards import KINDS
from guidedeck.cli import main
from tests.anki_engine import assert_healthy_import, fresh_collection, import_package, notetype
from tests.conftest import FIXTURES

UPDATES = FIXTURES / "updates"
V1 = (UPDATES / "v1.md").read_text(encoding="utf-8")
EDITS: list[dict[str, Any]] = yaml.safe_load((UPDATES / "edits.yaml").read_text("utf-8"))
V1_NOTES = 11
REMOVED_SEARCH = re.compile(r'^\s+("note:guidedeck\*" \(.*\))$', re.M)


def apply_edit(text: str, edit: dict[str, Any]) -> str:
    """The guide after ``edit`` (see edits.yaml for the operations)."""
    for old, new in edit.get("replace", []):
        assert text.count(old) == 1, f"{old!r} must occur once"
        text = text.replace(old, new)
    if "swap" in edit:
        a, b = edit["swap"]
        text = swap_questions(text, a, b)
    return text


def swap_questions(text: str, a: int, b: int) -> str:
    """Exchange question sections ``a`` and ``b`` and renumber every question in order."""
    head, *sections = re.split(r"(?m)^(?=### Question \d+:)", text)
    last, tail = sections[-1].split("\n---\n\n## Practice", 1)
    sections[-1] = last
    sections = [s if s.endswith("\n") else s + "\n" for s in sections]
    sections = [s if s.rstrip().endswith("---") else s.rstrip() + "\n\n---\n\n" for s in sections]
    sections[a - 1], sections[b - 1] = sections[b - 1], sections[a - 1]
    renumbered = [
        re.sub(r"^### Question \d+:", f"### Question {n}:", s, count=1)
        for n, s in enumerate(sections, start=1)
    ]
    return head + "".join(renumbered) + "## Practice" + tail


@dataclass
class Review:
    """A card's scheduling state: what must survive a re-import."""

    type: int
    queue: int
    due: int
    ivl: int
    factor: int
    reps: int
    lapses: int


def review_state(col: Collection) -> dict[int, Review]:
    """Scheduling state of every card, by note id."""
    states = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        states[card.nid] = Review(card.type, card.queue, card.due, card.ivl, card.factor,
                                  card.reps, card.lapses)  # fmt: skip
    return states


def answer_every_card(col: Collection) -> int:
    """Answer each due card once (Easy, so it leaves the queue) through the v3 scheduler."""
    answered = 0
    for deck in col.decks.all_names_and_ids():
        conf = col.decks.config_dict_for_deck_id(deck.id)
        conf["new"]["perDay"] = 9999
        col.decks.update_config(conf)
        col.decks.select(deck.id)  # the scheduler queues from the current deck
        while queued := col.sched.get_queued_cards().cards:
            top = queued[0]
            card = col.get_card(top.card.id)
            card.start_timer()  # as the reviewer does when it shows the card
            answer = col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.EASY)
            col.sched.answer_card(answer)
            answered += 1
    return answered


def note_text(col: Collection, nid: int) -> str:
    return "\x1f".join(col.get_note(nid).fields)


def notes_containing(col: Collection, text: str) -> set[int]:
    return {nid for nid in col.find_notes("") if text in note_text(col, nid)}


class Workspace:
    """A guide folder, an output folder and one Anki collection, as a user has them."""

    def __init__(self, root: Path) -> None:
        self.guides = root / "guides"
        self.guides.mkdir(parents=True)
        self.guide = self.guides / "networking.md"
        self.out = root / "decks"
        self.col = fresh_collection(root / "anki")

    def write(self, text: str) -> None:
        self.guide.write_text(text, encoding="utf-8")

    def build(self, *extra: str) -> str:
        result = CliRunner().invoke(
            main, ["build", str(self.guide), "--out", str(self.out), *extra]
        )
        assert result.exit_code == 0, result.output
        return result.output

    @property
    def lock(self) -> Path:
        return self.guides / "networking.guidedeck.lock"

    @property
    def apkg(self) -> Path:
        return self.out / "networking.apkg"

    def import_deck(self) -> Any:
        return import_package(self.col, self.apkg)


@pytest.fixture
def reviewed(tmp_path: Path) -> Any:
    """v1 built, imported and every card answered once."""
    ws = Workspace(tmp_path)
    ws.write(V1)
    ws.build()
    assert_healthy_import(ws.col, ws.import_deck(), V1_NOTES)
    assert answer_every_card(ws.col) == V1_NOTES
    yield ws
    ws.col.close()


def test_rebuild_without_edit_is_byte_identical_and_changes_nothing(reviewed: Workspace) -> None:
    ws = reviewed
    first = ws.apkg.read_bytes()
    lock = (ws.lock).read_bytes()
    mtimes = {nid: ws.col.get_note(nid).mod for nid in ws.col.find_notes("")}
    before = review_state(ws.col)
    output = ws.build()
    assert "0 note(s)" not in output and "nid:" not in output
    assert ws.apkg.read_bytes() == first
    assert (ws.lock).read_bytes() == lock
    log = ws.import_deck()
    assert len(log.updated) == 0 and len(log.new) == 0
    assert len(log.duplicate) == V1_NOTES
    assert {nid: ws.col.get_note(nid).mod for nid in ws.col.find_notes("")} == mtimes
    assert review_state(ws.col) == before


@pytest.mark.parametrize("edit", EDITS, ids=[e["name"] for e in EDITS])
def test_edit_lands_on_the_known_note(reviewed: Workspace, edit: dict[str, Any]) -> None:
    ws = reviewed
    expect = edit["expect"]
    before = review_state(ws.col)
    mtimes = {nid: ws.col.get_note(nid).mod for nid in before}
    landing = edit.get("lands")
    held = notes_containing(ws.col, landing["was_in"]) if landing else set()

    ws.write(apply_edit(V1, edit))
    deck_before, lock_before = ws.apkg.read_bytes(), (ws.lock).read_bytes()
    dry = ws.build("--dry-run")
    assert ws.apkg.read_bytes() == deck_before
    assert (ws.lock).read_bytes() == lock_before
    output = ws.build()
    log = ws.import_deck()
    # removed notes stay in the collection until the user deletes them
    in_package = V1_NOTES + expect["added"] - expect["removed"]
    assert_healthy_import(ws.col, log, in_package, V1_NOTES + expect["added"])

    # the importer's own account: new notes, updated notes, the rest untouched
    assert len(log.new) == expect["added"]
    assert len(log.updated) == expect["updated"]
    assert len(log.conflicting) == 0
    # every card the user reviewed keeps its review state
    after = review_state(ws.col)
    for nid, state in before.items():
        assert after[nid] == state, nid
    # notes whose content did not change keep their modification time
    updated = {n.id.nid for n in log.updated}
    for nid, mtime in mtimes.items():
        if nid not in updated:
            assert ws.col.get_note(nid).mod == mtime, nid
        else:
            assert ws.col.get_note(nid).mod > mtime, nid
    # the edit landed on the note the user already had
    if landing:
        assert held and held <= notes_containing(ws.col, landing["now_in"])
    # removed items: counted, and the printed search finds exactly those notes
    searches = REMOVED_SEARCH.findall(output)
    if expect["removed"]:
        (search,) = searches
        found = set(ws.col.find_notes(search))
        assert len(found) == expect["removed"]
        assert found <= set(before)
        assert f"{expect['removed']} note(s) are no longer in networking.md" in output
        assert REMOVED_SEARCH.findall(dry) == searches
    else:
        assert not searches
    # the dry run predicted what the build did
    assert _status_line(dry) == _status_line(output)


def _status_line(output: str) -> list[str]:
    line = next(ln for ln in output.splitlines() if ln.startswith("networking.md"))
    return line.split()[1:9]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.write(V1)
    output = ws.build("--dry-run")
    assert "dry run: nothing written" in output
    assert not ws.out.exists()
    assert not (ws.lock).exists()
    ws.col.close()


def test_without_a_lock_identities_come_from_keys(tmp_path: Path) -> None:
    """Two independent first builds (no lock) give the same GUIDs: Anki sees the same notes."""
    decks = []
    for n in (1, 2):
        ws = Workspace(tmp_path / str(n))
        ws.write(V1)
        ws.build()
        ws.import_deck()
        decks.append(sorted(ws.col.get_note(nid).guid for nid in ws.col.find_notes("")))
        ws.col.close()
    assert decks[0] == decks[1]
    assert len(set(decks[0])) == V1_NOTES


def lock_notes(path: Path) -> list[dict[str, Any]]:
    """The note lines of a lock file (JSON Lines: a header, then one note per line)."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["version"] == 2
    return lines[1:]


def test_note_ids_survive_import_so_nid_searches_work(reviewed: Workspace) -> None:
    nids = {n["nid"] for n in lock_notes(reviewed.lock)}
    assert set(reviewed.col.find_notes("")) == nids


def test_lock_file_records_every_note_one_per_line_sorted(reviewed: Workspace) -> None:
    header = json.loads(reviewed.lock.read_text().splitlines()[0])
    notes = lock_notes(reviewed.lock)
    assert len(notes) == V1_NOTES
    assert [n["id"] for n in notes] == sorted(n["id"] for n in notes)
    assert {"guid", "nid", "chash", "fhash", "mtime", "id", "key", "pos", "kind", "model",
            "text"} == set(notes[0])  # fmt: skip
    assert header["guide"] == "networking.md"
    assert set(header["notetypes"]) == {"quiz", "fact", "contrast", "scenario"}
    nids = {note.id for note in map(reviewed.col.get_note, reviewed.col.find_notes(""))}
    assert {n["nid"] for n in notes} == nids


def test_template_and_css_changes_reach_the_notetype(
    reviewed: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guidedeck import notetypes

    ws = reviewed
    before = review_state(ws.col)
    quiz_id = notetypes.spec("quiz").model_id
    old_css = notetype(ws.col, quiz_id)["css"]
    patched = notetypes.stylesheet() + "\n.gd-question { letter-spacing: 0.01em; }\n"
    notetypes.design.cache_clear()
    monkeypatch.setattr(notetypes, "stylesheet", lambda: patched)
    try:
        ws.build()
        log = ws.import_deck()
    finally:
        notetypes.design.cache_clear()
    assert len(log.conflicting) == 0 and len(log.updated) == 0
    model = notetype(ws.col, quiz_id)
    assert model["css"] != old_css and "letter-spacing: 0.01em" in model["css"]
    assert [m.name for m in ws.col.models.all_names_and_ids()].count("guidedeck Quiz") == 1
    assert review_state(ws.col) == before


def test_field_change_is_refused_unless_a_new_version_is_declared(
    reviewed: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guidedeck import notetypes

    ws = reviewed
    first = ws.apkg.read_bytes()
    quiz = notetypes.spec("quiz")
    changed = notetypes.NotetypeSpec(
        quiz.kind, quiz.model_id, quiz.name, (*quiz.fields, "Hint"), quiz.sort_field
    )
    # the registry as it was comes back after the test
    monkeypatch.setattr(KINDS, "_kinds", dict(KINDS._kinds))
    monkeypatch.setattr(KINDS, "_models", dict(KINDS._models))
    KINDS.replace(dataclasses.replace(KINDS["quiz"], notetype=changed))
    result = CliRunner().invoke(main, ["build", str(ws.guide), "--out", str(ws.out)])
    assert result.exit_code == 1
    assert "fields of notetype 'guidedeck Quiz'" in result.output
    assert "Declare a new notetype version" in result.output
    assert ws.apkg.read_bytes() == first

    # A declared new version (new id and name) builds: its notes are new ones, the old quiz
    # notes are reported removed, and nothing conflicts in Anki.
    version2 = notetypes.NotetypeSpec(
        quiz.kind, 1653766121337, "guidedeck Quiz v2", changed.fields, "Question"
    )
    plain_fields = KINDS["quiz"].fields

    def with_hint(card: Any, guide: Any, shuffle: bool) -> dict[str, str]:
        return {**plain_fields(card, guide, shuffle), "Hint": ""}

    KINDS.replace(dataclasses.replace(KINDS["quiz"], notetype=version2, fields=with_hint))
    notetypes.design.cache_clear()
    # changed code is a new guidedeck: nothing the cache holds from the old one is used
    monkeypatch.setattr("guidedeck.cache.fingerprint", lambda: "guidedeck with Quiz v2")
    output = ws.build()
    assert "3 note(s) are no longer in networking.md" in output
    log = ws.import_deck()
    assert len(log.conflicting) == 0
    assert len(log.new) == 3
    assert ws.col.models.by_name("guidedeck Quiz v2") is not None
    notetypes.design.cache_clear()
