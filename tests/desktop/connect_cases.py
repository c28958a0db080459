"""``guidedeck push`` and ``triage`` through the real AnkiConnect add-on, inside the real Anki
desktop (aqt, headless), while it runs (issue #27).

Not collected by the main run: ``tests/test_anki_connect.py`` runs this module in a child pytest
(see ``tests/desktop/pytest.ini``) and judges each case by its report (``tests/desktop/child.py``).
Anki starts once for the module with the add-on from ``../shared/ankiconnect/plugin``
(unchanged), listening on a free port. guidedeck runs as the learner runs it: ``python -m
guidedeck`` in a process of its own, talking HTTP to Anki, while this process keeps Anki's event
loop turning (the add-on answers from it). What Anki holds is then read from Anki's own open
collection.

Each case writes guides of its own names into decks of its own, so the cases share one Anki
without sharing a note.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT.parent / "shared" / "ankiconnect" / "plugin"
POLICIES = ["keep", "tag", "suspend", "delete"]

CASES = (
    ["test_a_first_push_finds_anki_running_and_fills_the_deck",
     "test_edits_land_on_the_studied_cards_and_keep_every_review",
     "test_a_push_without_edits_changes_nothing_in_anki",
     "test_a_dry_run_through_anki_connect_changes_nothing",
     "test_a_renamed_deck_takes_its_studied_cards_along"]
    + [f"test_each_removed_policy_over_anki_connect[{p}]" for p in POLICIES]
    + ["test_the_same_edits_give_the_same_plan_both_ways",
       "test_presets_through_anki_connect_are_read_back_from_anki",
       "test_triage_reads_the_running_anki"]
)  # fmt: skip
"""Every case this module runs, as its report names it."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Anki:
    """Anki desktop, running with AnkiConnect, and guidedeck's command line beside it."""

    def __init__(self, session: Any, url: str) -> None:
        self.session = session
        self.url = url

    @property
    def col(self) -> Any:
        return self.session.mw.col

    def guidedeck(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """Run ``python -m guidedeck ARGS`` in its own process while Anki's event loop turns
        (AnkiConnect answers from it); its exit status and output."""
        environ = {**os.environ, **(env or {})}
        with subprocess.Popen(
            [sys.executable, "-m", "guidedeck", *args], cwd=ROOT, env=environ, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        ) as child:  # fmt: skip
            end = time.monotonic() + 300
            while child.poll() is None:
                assert time.monotonic() < end, "guidedeck did not finish"
                self.session.qtbot.wait(20)
            output = child.stdout.read() if child.stdout else ""
        assert "Traceback" not in output, output
        return child.returncode, output

    def push(self, guides: Path, *extra: str) -> tuple[int, str]:
        out = guides.parent / "out"
        return self.guidedeck("push", str(guides), "--out", str(out), "--anki-connect",
                              self.url, *extra)  # fmt: skip

    def notes(self, deck_root: str) -> dict[str, dict[str, Any]]:
        """guidedeck's notes with a card under ``deck_root``, by ``ID`` field."""
        col, out = self.col, {}
        search = f'"note:guidedeck*" ("deck:{deck_root}" OR "deck:{deck_root}::*")'
        for nid in col.find_notes(search):
            note = col.get_note(nid)
            cards = note.cards()
            out[note["ID"]] = {
                "nid": nid, "fields": dict(note.items()), "tags": set(note.tags),
                "mod": note.mod, "decks": {col.decks.name(c.did) for c in cards},
                "queue": {c.queue for c in cards}, "ivl": {c.ivl for c in cards},
                "reps": sum(c.reps for c in cards),
            }  # fmt: skip
        return out

    def study(self, deck_root: str) -> int:
        """Answer every card under ``deck_root`` 'Easy' with Anki's scheduler."""
        col, answered = self.col, 0
        for deck in col.decks.all_names_and_ids():
            if deck.name == deck_root or deck.name.startswith(deck_root + "::"):
                config = col.decks.config_dict_for_deck_id(deck.id)
                config["new"]["perDay"] = 9_999
                col.decks.update_config(config)
                col.decks.select(deck.id)
                while (card := col.sched.getCard()) is not None:
                    col.sched.answerCard(card, 4)
                    answered += 1
        return answered

    def revlog(self) -> int:
        return int(self.col.db.scalar("select count() from revlog"))


@pytest.fixture(scope="module")
def anki(request: pytest.FixtureRequest, qapp: Any) -> Iterator[Anki]:
    from pytest_anki._plugin.launch import anki_running
    from pytestqt.qtbot import QtBot

    if not (ADDON / "__init__.py").is_file():
        pytest.skip(f"the AnkiConnect add-on is not at {ADDON}")
    port = _free_port()
    config = {"webBindAddress": "127.0.0.1", "webBindPort": port, "apiKey": None,
              "apiLogPath": None, "webCorsOriginList": ["http://localhost"],
              "ignoreOriginList": []}  # fmt: skip
    with anki_running(
        qtbot=QtBot(request), load_profile=True, unpacked_addons=[("ankiconnect", ADDON)],
        addon_configs=[("ankiconnect", config)],
    ) as session:  # fmt: skip
        yield Anki(session, f"http://127.0.0.1:{port}")


def _guides(tmp: Path, stem: str, deck: str, preset: str = "") -> Path:
    """A folder with the updates fixture as ``<stem>.md``, built into ``deck``."""
    from tests.test_push import SAMPLE

    folder = tmp / "guides"
    folder.mkdir(parents=True)
    (folder / f"{stem}.md").write_text(SAMPLE, encoding="utf-8")
    extra = f"\n    preset: {{{preset}}}" if preset else ""
    (folder / "decks.yaml").write_text(
        f"packages:\n  - guides: [{stem}.md]\n    deck: {deck}{extra}\n", encoding="utf-8"
    )
    return folder


def _edit(folder: Path, stem: str) -> None:
    """The file-path tests' edit: a typo fixed, a quiz added, a table row removed."""
    from tests.test_push import ADDED_QUIZ, GONE_ROW, QUIZ_AFTER, QUIZ_BEFORE

    guide = folder / f"{stem}.md"
    text = guide.read_text(encoding="utf-8").replace(QUIZ_BEFORE, QUIZ_AFTER).replace(GONE_ROW, "")
    text = text.replace(
        "### Quick Check\n\n" + QUIZ_AFTER, ADDED_QUIZ + "### Quick Check\n\n" + QUIZ_AFTER
    )
    guide.write_text(text, encoding="utf-8")


def _table(output: str) -> dict[str, list[int]]:
    """The push summary's rows: deck -> added, updated, unchanged, moved, removed."""
    rows = {}
    for line in output.splitlines():
        found = re.match(r"^(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if found:
            rows[found.group(1)] = [int(found.group(n)) for n in range(2, 7)]
    return rows


def test_a_first_push_finds_anki_running_and_fills_the_deck(anki: Anki, tmp_path: Path) -> None:
    from tests.anki_engine import TEMPLATE_PROBLEM, assert_preview_matches_anki, render_all

    folder = _guides(tmp_path, "first_push", "C1")
    # no --anki-connect: the default URL (here the environment's) is tried, and answers
    out = str(tmp_path / "out")
    code, output = anki.guidedeck(
        "push", str(folder), "--out", out, env={"GUIDEDECK_ANKI_CONNECT": anki.url}
    )
    assert code == 0, output
    assert f"pushed into Anki (AnkiConnect at {anki.url})" in output
    notes = anki.notes("C1")
    assert len(notes) == _table(output)["total"][0] > 5
    assert all(n["decks"] == {"C1"} for n in notes.values())
    nids = {n["nid"] for n in notes.values()}
    cards = [c for c in render_all(anki.col) if c.note_id in nids]
    assert len(cards) == len(notes)
    assert not [c for c in cards if TEMPLATE_PROBLEM in c.question + c.answer]
    assert_preview_matches_anki(cards)
    assert list((tmp_path / "out").glob("*.apkg")), "the build's deck was committed"


def test_edits_land_on_the_studied_cards_and_keep_every_review(anki: Anki, tmp_path: Path) -> None:
    from tests.test_push import QUIZ_AFTER

    folder = _guides(tmp_path, "edits", "C2")
    assert anki.push(folder)[0] == 0
    studied = anki.notes("C2")
    assert anki.study("C2") == len(studied)
    studied = anki.notes("C2")
    assert all(0 not in n["ivl"] for n in studied.values())
    revlog = anki.revlog()

    _edit(folder, "edits")
    code, output = anki.push(folder)
    assert code == 0, output
    after = anki.notes("C2")
    new = set(after) - set(studied)
    assert len(new) == 1 and "is-udp-connectionless" in next(iter(new))
    for key, note in studied.items():
        assert after[key]["ivl"] == note["ivl"] and after[key]["reps"] == note["reps"], key
        assert after[key]["nid"] == note["nid"], "the same note, not a copy"
    asks = {k: n["fields"].get("Question", "") for k, n in after.items()}
    fixed = [k for k, question in asks.items() if QUIZ_AFTER.strip("*") in question]
    assert len(fixed) == 1 and fixed[0] in studied, "the typo fix landed on the studied note"
    assert anki.revlog() == revlog
    assert _table(output)["C2"] == [1, 4, len(studied) - 5, 0, 1], output
    assert "1 removed note(s): kept" in output


def test_a_push_without_edits_changes_nothing_in_anki(anki: Anki, tmp_path: Path) -> None:
    folder = _guides(tmp_path, "no_op", "C3")
    assert anki.push(folder)[0] == 0
    anki.study("C3")
    before = anki.notes("C3")
    modified = anki.col.mod
    code, output = anki.push(folder)
    assert code == 0, output
    assert anki.notes("C3") == before
    assert anki.col.mod == modified, "the collection was not touched"
    assert _table(output)["C3"] == [0, 0, len(before), 0, 0], output


def test_a_dry_run_through_anki_connect_changes_nothing(anki: Anki, tmp_path: Path) -> None:
    folder = _guides(tmp_path, "dry_run", "C4")
    assert anki.push(folder)[0] == 0
    before, modified = anki.notes("C4"), anki.col.mod
    files = {p: p.read_bytes() for p in folder.parent.rglob("*") if p.is_file()}
    _edit(folder, "dry_run")
    files[folder / "dry_run.md"] = (folder / "dry_run.md").read_bytes()
    code, output = anki.push(folder, "--dry-run", "--removed", "delete")
    assert code == 0, output
    assert f"would push into Anki (AnkiConnect at {anki.url})" in output
    assert _table(output)["C4"] == [1, 4, len(before) - 5, 0, 1], output
    assert "1 removed note(s): would be handled by --removed delete" in output
    assert anki.notes("C4") == before and anki.col.mod == modified
    assert {p: p.read_bytes() for p in folder.parent.rglob("*") if p.is_file()} == files


def test_a_renamed_deck_takes_its_studied_cards_along(anki: Anki, tmp_path: Path) -> None:
    folder = _guides(tmp_path, "rename", "C5::Old")
    assert anki.push(folder)[0] == 0
    anki.study("C5")
    before = anki.notes("C5")
    (folder / "decks.yaml").write_text("packages:\n  - guides: [rename.md]\n    deck: C5::New\n")
    code, output = anki.push(folder)
    assert code == 0, output
    after = anki.notes("C5")
    assert all(n["decks"] == {"C5::New"} for n in after.values())
    assert all(after[k]["ivl"] == before[k]["ivl"] for k in before), "reviews kept"
    assert _table(output)["C5::New"] == [0, 0, len(before), len(before), 0], output
    assert 'deck "C5::Old" was left empty by the moves and removed' in output
    assert anki.col.decks.by_name("C5::Old") is None


@pytest.mark.parametrize("policy", POLICIES)
def test_each_removed_policy_over_anki_connect(anki: Anki, tmp_path: Path, policy: str) -> None:
    from tests.test_push import assert_only_the_removed_note_was_acted_on

    deck = f"C6{policy}"
    folder = _guides(tmp_path, f"policy_{policy}", deck)
    assert anki.push(folder)[0] == 0
    anki.study(deck)
    before = anki.notes(deck)
    _edit(folder, f"policy_{policy}")
    extra = ["--removed", policy] + (["--yes"] if policy == "delete" else [])
    code, output = anki.push(folder, *extra)
    assert code == 0, output
    after = anki.notes(deck)
    (gone,) = [k for k in before if "redis" in k.lower() and "/fact/" in k]
    assert_only_the_removed_note_was_acted_on(policy, before, after, gone)
    if policy == "delete":
        exported = re.search(r"exported before deleting: (.+?\.apkg)", output)
        assert exported and Path(exported.group(1)).is_file(), output
        _restores(anki, Path(exported.group(1)), gone, before[gone])
    assert "1 removed note(s): " in output


def _restores(anki: Anki, exported: Path, key: str, was: dict[str, Any]) -> None:
    """The deck exported before a deletion brings the note back, with its reviews."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(
        package_path=str(exported), options=ImportAnkiPackageOptions(with_scheduling=True)
    )
    anki.col.import_anki_package(request)
    back = anki.notes(next(iter(was["decks"])))[key]
    assert back["ivl"] == was["ivl"] and back["fields"] == was["fields"]


def test_the_same_edits_give_the_same_plan_both_ways(anki: Anki, tmp_path: Path) -> None:
    """The same guide, pushed through AnkiConnect and into a closed collection file, edited and
    pushed again: the two summaries agree on every number."""
    from tests.anki_engine import fresh_collection

    collection = tmp_path / "closed" / "collection.anki2"
    fresh_collection(collection.parent).close()
    running = _guides(tmp_path / "running", "both_ways", "C7")
    closed = _guides(tmp_path / "closed_guides", "both_ways", "C7")
    file_args = ["--collection", str(collection)]
    outputs = []
    for step in ("first", "edited"):
        if step == "edited":
            _edit(running, "both_ways")
            _edit(closed, "both_ways")
        via_connect = anki.push(running, "--removed", "tag")
        via_file = anki.guidedeck("push", str(closed), "--out", str(closed.parent / "out"),
                                  "--removed", "tag", *file_args)  # fmt: skip
        assert via_connect[0] == via_file[0] == 0, (via_connect, via_file)
        outputs.append((_table(via_connect[1]), _table(via_file[1])))
    for connected, filed in outputs:
        assert connected == filed and connected["total"][0] + connected["total"][2] > 5


def test_presets_through_anki_connect_are_read_back_from_anki(anki: Anki, tmp_path: Path) -> None:
    name = "guidedeck: presets"
    default = anki.col.decks.get_config(1)
    folder = _guides(tmp_path, "presets", "C8", "new_per_day: 7, desired_retention: 0.85")
    code, output = anki.push(folder)
    assert code == 0 and f"options preset '{name}' made, given to 1 deck(s)" in output, output
    deck = anki.col.decks.by_name("C8")
    conf = anki.col.decks.config_dict_for_deck_id(deck["id"])
    assert conf["name"] == name and conf["new"]["perDay"] == 7
    assert round(conf["desiredRetention"], 2) == 0.85

    _edit(folder, "presets")  # a push that imports: the deck keeps its preset
    (folder / "decks.yaml").write_text(
        "packages:\n  - guides: [presets.md]\n    deck: C8\n    preset: {new_per_day: 12}\n"
    )
    code, output = anki.push(folder)
    assert code == 0 and f"options preset '{name}' updated" in output, output
    conf = anki.col.decks.config_dict_for_deck_id(anki.col.decks.by_name("C8")["id"])
    assert conf["name"] == name and conf["new"]["perDay"] == 12

    conf["new"]["perDay"] = 3  # the learner's own choice, in Anki
    anki.col.decks.update_config(conf)
    (folder / "decks.yaml").write_text(
        "packages:\n  - guides: [presets.md]\n    deck: C8\n    preset: {new_per_day: 20}\n"
    )
    code, output = anki.push(folder)
    assert code == 0 and "was changed in Anki: left as it is" in output, output
    conf = anki.col.decks.config_dict_for_deck_id(anki.col.decks.by_name("C8")["id"])
    assert conf["new"]["perDay"] == 3
    assert anki.col.decks.get_config(1) == default, "Anki's Default preset is left alone"


def test_triage_reads_the_running_anki(anki: Anki, tmp_path: Path) -> None:
    import json

    folder = _guides(tmp_path, "triage", "C9")
    assert anki.push(folder)[0] == 0
    notes = anki.notes("C9")
    col = anki.col
    troubled = {}
    for what, key in zip(["flag", "leech", "lapses"], sorted(notes), strict=False):
        card = col.get_note(notes[key]["nid"]).cards()[0]
        if what == "flag":
            col.set_user_flag_for_cards(1, [card.id])
        elif what == "leech":
            col.tags.bulk_add([card.nid], "leech")
        else:
            card.lapses = 4
            col.update_card(card)
        troubled[what] = key
    modified = col.mod
    code, output = anki.guidedeck("triage", str(folder), "--decks", str(tmp_path / "out"),
                                  "--anki-connect", anki.url, "--format", "json")  # fmt: skip
    assert code == 0, output
    found = json.loads(output[output.index("[") : output.rindex("]") + 1])
    assert len(found) == 3
    assert found[0]["leech"] and found[1]["lapses"] == 4 and found[2]["flag"] == "red"
    assert all(t["source"].startswith(str(folder / "triage.md") + ":") for t in found)
    assert col.mod == modified, "triage changed nothing"
