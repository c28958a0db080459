"""A fifth card kind, added through the registry alone (issue #22).

This module is the whole of the kind: its model, its notetype (ids of its own), its templates,
its renderer, key, list form and summary, and its parser rule (``Definition: term = meaning``).
Nothing in guidedeck is edited: registering the kind and its rule is enough for every stage
(parse, prepare, match, identities, lock, package, summary, list) to carry it into Anki.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guidedeck.cards import KINDS, KindSpec, NotetypeSpec
from guidedeck.cards.spec import key_name
from guidedeck.cli import main
from guidedeck.diagnostics import SourceLoc
from guidedeck.kinds import CardKind
from guidedeck.lockfile import read_lock
from guidedeck.models import Question
from guidedeck.parse import family
from guidedeck.parse.blocks import Block
from guidedeck.parse.family.state import Rule, State
from tests.anki_engine import fresh_collection, import_package

DEFINITION = CardKind("definition")


@dataclasses.dataclass(frozen=True, slots=True)
class Definition:
    """A term and what it means."""

    loc: SourceLoc
    term: str
    meaning: str
    section: Question | None = None
    kind: CardKind = dataclasses.field(default=DEFINITION, init=False)


def _fields(card: Definition, _guide: Any, _shuffle: bool) -> dict[str, str]:
    return {"Term": html.escape(card.term), "Meaning": html.escape(card.meaning)}


def _rule(state: State, items: list[Block], i: int) -> int | None:
    block = items[i]
    text = block.text.strip() if block.type == "paragraph" else ""
    if not text.startswith("Definition:") or "=" not in text:
        return None
    term, meaning = text.removeprefix("Definition:").split("=", 1)
    state.out.others.append(Definition(state.loc(block.line), term.strip(), meaning.strip()))
    return i + 1


GUIDE = """# Networking words

Definition: latency = the time one message takes to arrive

Definition: throughput = how much arrives per second

### Quick Check

**Which one is measured in milliseconds?**

-> A. Latency
   B. Throughput

<details>
<summary>See Answer</summary>

Latency is a time; throughput is a rate.

</details>
"""


@pytest.fixture
def definitions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KindSpec]:
    """The kind and its rule, registered for one test."""
    from guidedeck.notetypes import design

    templates = tmp_path_factory.mktemp("definition-templates")
    (templates / "front.html").write_text('<div class="gd">{{Term}}</div>', encoding="utf-8")
    (templates / "back.html").write_text(
        '{{FrontSide}}<hr id="answer"><div class="gd-meaning">{{Meaning}}</div>',
        encoding="utf-8",
    )
    fields = ("ID", "Guide", "Term", "Meaning", "Source")
    notetype = NotetypeSpec(
        DEFINITION, 1_711_711_711_711, "guidedeck Test Definition", fields, "Term"
    )
    spec = KindSpec(
        kind=DEFINITION,
        model=Definition,
        notetype=notetype,
        templates=templates,
        content_fields=("Term", "Meaning"),
        fields=_fields,
        key_name=lambda card: key_name(card.term),
        as_dict=lambda card: {"term": card.term, "meaning": card.meaning},
        summary=lambda card: f"{card.term}?",
    )
    KINDS.add(spec)
    rules = family.RULES
    family.RULES = (*rules[:-1], Rule("definitions", _rule), rules[-1])
    design.cache_clear()
    try:
        yield spec
    finally:
        family.RULES = rules
        KINDS.remove(DEFINITION)
        design.cache_clear()


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout


def test_a_kind_registered_alone_reaches_anki(definitions: KindSpec, tmp_path: Path) -> None:
    guide = tmp_path / "guides" / "words.md"
    guide.parent.mkdir()
    guide.write_text(GUIDE, encoding="utf-8")
    out = tmp_path / "out"

    listed = json.loads(_invoke("list", "--format", "json", str(guide)))
    assert [c["kind"] for c in listed] == ["definition", "definition", "quiz"]
    assert listed[0]["term"] == "latency" and listed[0]["source"].endswith("words.md:3")
    assert "latency?" in _invoke("list", "--kind", "definition", str(guide))

    summary = _invoke("build", str(guide), "--out", str(out))
    head = next(line for line in summary.splitlines() if line.startswith("guide"))
    assert "definition" in head.split()
    lock, _text = read_lock(guide.with_name("words.guidedeck.lock"))
    assert sorted(e.kind for e in lock.notes) == ["definition", "definition", "quiz"]

    col = fresh_collection(tmp_path / "anki")
    try:
        log = import_package(col, out / "words.apkg")
        assert len(log.new) == 3 and not log.conflicting
        model = col.models.by_name("guidedeck Test Definition")
        assert model is not None and model["id"] == 1_711_711_711_711
        (nid, *_rest) = col.find_notes('"note:guidedeck Test Definition" Term:latency')
        note = col.get_note(nid)
        guid = note.guid
        output = note.cards()[0].render_output()
        assert "latency" in output.question_text
        assert "the time one message takes to arrive" in output.answer_text

        # an edit to the meaning lands on the same note
        guide.write_text(GUIDE.replace("to arrive", "to get there"), encoding="utf-8")
        _invoke("build", str(guide), "--out", str(out))
        log = import_package(col, out / "words.apkg")
        assert len(log.updated) == 1 and not log.new
        note = col.get_note(nid)
        assert note.guid == guid and note["Meaning"] == "the time one message takes to get there"
    finally:
        col.close()
