"""``guidedeck triage`` (issue #27): the notes learners flag, mark or keep failing, found in a
real Anki collection and traced to the lines of the guides they came from; read-only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import assert_every_deck_imports, fresh_collection, import_package
from tests.conftest import ROOT, copy_guides

SAMPLE = ROOT / "deck_source" / "backend-basics.md"


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """The sample built and imported into a collection where a learner flagged one card, marked
    one note, had one turn into a leech, failed one five times and another once. Returns the
    guide, the collection, and what each trouble was given to (``path:line`` by name)."""
    (guide,) = copy_guides(tmp_path / "guides", SAMPLE)
    out = tmp_path / "build"
    result = CliRunner().invoke(main, ["build", str(guide), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert_every_deck_imports([out / "backend-basics.apkg"], tmp_path / "checked", set())
    cards = json.loads(CliRunner().invoke(main, ["list", str(guide), "--format", "json"]).output)
    col = fresh_collection(tmp_path / "anki")
    given: dict[str, str] = {}
    try:
        import_package(col, out / "backend-basics.apkg")
        by_source: dict[str, int] = {}
        for cid in col.find_cards('"note:guidedeck *"'):
            by_source.setdefault(_source_of(col, cid, cards), cid)
        sources = sorted(by_source)
        plan = dict(
            zip(["flag", "marked", "leech", "lapses5", "lapses1"], sources[:5], strict=True)
        )
        for what, source in plan.items():
            card = col.get_card(by_source[source])
            note = card.note()
            if what == "flag":
                col.set_user_flag_for_cards(1, [card.id])
            elif what in ("marked", "leech"):
                note.add_tag(what)
                col.update_note(note)
            else:
                card.lapses = 5 if what == "lapses5" else 1
                col.update_card(card)
            given[what] = source
    finally:
        col.close()
    return guide, tmp_path / "anki" / "collection.anki2", given


def _source_of(col: object, cid: int, cards: list[dict[str, object]]) -> str:
    """The ``path:line`` of a card, by its note's position among the guide's notes (the due of a
    new card is its order in the guide)."""
    card = col.get_card(cid)  # type: ignore[attr-defined]
    return str(cards[card.due - min(_dues(col))]["source"])


def _dues(col: object) -> list[int]:
    return [col.get_card(c).due for c in col.find_cards('"note:guidedeck *"')]  # type: ignore[attr-defined]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_triage_lists_the_notes_in_trouble_most_first(
    reviewed: tuple[Path, Path, dict[str, str]],
) -> None:
    guide, collection, given = reviewed
    before = _digest(collection)
    out = guide.parent.parent / "build"
    args = ["triage", str(guide), "--collection", str(collection), "--decks", str(out)]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [t["source"] for t in found] == [
        given["leech"], given["lapses5"], given["flag"], given["marked"],
    ]  # fmt: skip
    assert found[0]["leech"] and found[1]["lapses"] == 5 and found[2]["flag"] == "red"
    assert found[3]["marked"]
    assert given["lapses1"] not in {t["source"] for t in found}  # below --lapses 3
    assert all(t["question"] and t["kind"] in {"quiz", "fact", "contrast", "scenario"}
               for t in found)  # fmt: skip
    table = CliRunner().invoke(main, [*args])
    assert table.exit_code == 0, table.output
    first = table.stdout.splitlines()[0]
    assert first.startswith(f"{given['leech']}: ") and first.endswith("(lapses 0, leech)")
    assert "4 note(s) in trouble, of 26" in table.output
    # read-only: the collection's bytes are as they were
    assert _digest(collection) == before
    lower = CliRunner().invoke(main, [*args, "--format", "json", "--lapses", "1"])
    assert given["lapses1"] in {t["source"] for t in json.loads(lower.stdout)}


def test_triage_without_a_collection_says_so(tmp_path: Path) -> None:
    (guide,) = copy_guides(tmp_path / "guides", SAMPLE)
    result = CliRunner().invoke(
        main, ["triage", str(guide), "--collection", str(tmp_path / "none.anki2")]
    )
    assert result.exit_code == 1
    assert "no such collection file" in result.output and "Traceback" not in result.output
