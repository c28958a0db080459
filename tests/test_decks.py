"""Every deck the tests build is imported into the real Anki engine and every card rendered."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.build import build
from guidedeck.cli import main
from guidedeck.config import default_package
from guidedeck.guides import read_guide
from guidedeck.models import CardKind
from guidedeck.notetypes import design
from tests.anki_engine import (
    assert_healthy_import,
    fresh_collection,
    import_package,
    visible_text,
)
from tests.conftest import FIXTURES, copy_guides, corpus_guides

DECK_FIXTURES = [
    p
    for p in sorted((FIXTURES / "parse").glob("*.md")) + sorted((FIXTURES / "decks").glob("*.md"))
    if p.stem != "dialect_unanswered"  # it lists questions without answers: no deck at all
]
CORPUS = corpus_guides()


def build_one(guide: Path, out: Path) -> Path:
    """Build a copy of ``guide`` into ``out`` and return the written package."""
    (copy,) = copy_guides(out.parent / "guides", guide)
    report = build([default_package(copy)], out)
    package = report.packages[0]
    assert package.written, [str(d) for d in package.diagnostics]
    return package.output


def card_count(guide: Path) -> int:
    result = read_guide(guide).result
    assert result is not None
    return len(result.guide.cards)


def test_sample_deck_from_decks_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./deck_source: the embedded default is built
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    apkg = tmp_path / "build" / "backend-basics.apkg"
    assert apkg.is_file()
    col = fresh_collection(tmp_path / "anki")
    try:
        cards = assert_healthy_import(col, import_package(col, apkg), 26)
        kinds = {c.notetype for c in cards}
        assert kinds == {"guidedeck Quiz", "guidedeck Fact", "guidedeck Contrast",
                         "guidedeck Scenario"}  # fmt: skip
        deck_names = {d.name for d in col.decks.all_names_and_ids()}
        title = "Backend Engineering Basics: A Sample Interview Guide"
        assert f"Interview Guides::{title}" in deck_names
        for nid in col.find_notes(""):
            tags = set(col.get_note(nid).tags)
            assert {"guide::backend-basics", "guidedeck-sample"} <= tags
            assert any(t.startswith("kind::") for t in tags)
            assert any(t.startswith("category::") for t in tags)
            assert any(t.startswith("type::") for t in tags)
    finally:
        col.close()


@pytest.mark.parametrize("guide", DECK_FIXTURES, ids=[p.stem for p in DECK_FIXTURES])
def test_fixture_decks_import_cleanly(guide: Path, tmp_path: Path) -> None:
    apkg = build_one(guide, tmp_path / "out")
    col = fresh_collection(tmp_path / "anki")
    try:
        assert_healthy_import(col, import_package(col, apkg), card_count(guide))
    finally:
        col.close()


@pytest.mark.skipif(not CORPUS, reason="shared corpus (../shared/corpus) not found")
@pytest.mark.parametrize("guide", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_decks_import_cleanly(guide: Path, tmp_path: Path) -> None:
    apkg = build_one(guide, tmp_path / "out")
    col = fresh_collection(tmp_path / "anki")
    try:
        cards = assert_healthy_import(col, import_package(col, apkg), card_count(guide))
        for card in cards:
            if card.notetype == "guidedeck Quiz":
                assert visible_text(card.fields["Explanation"]), card.fields["Source"]
    finally:
        col.close()


class _Structure(HTMLParser):
    """Collects every tag and attribute of a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


FORBIDDEN_TAGS = {"script", "iframe", "svg", "object", "embed", "form", "input", "button",
                  "math", "style", "img", "animate", "frame", "meta", "link", "base"}  # fmt: skip


def test_hostile_html_never_reaches_a_card(tmp_path: Path) -> None:
    guide = FIXTURES / "decks" / "hostile.md"
    apkg = build_one(guide, tmp_path / "out")
    col = fresh_collection(tmp_path / "anki")
    try:
        cards = assert_healthy_import(col, import_package(col, apkg), card_count(guide))
        assert {c.notetype for c in cards} == {
            "guidedeck Quiz",
            "guidedeck Fact",
            "guidedeck Contrast",
            "guidedeck Scenario",
        }
        seen_text = ""
        # the quiz template's own script (tap to answer) is guidedeck's: the guide's never runs
        own = "<script>\n" + design(CardKind.QUIZ).front.split("<script>\n", 1)[1]
        for card in cards:
            sides = (card.question.replace(own, ""), card.answer.replace(own, ""))
            for side in (*sides, *card.fields.values()):
                found = _Structure()
                found.feed(side)
                assert not found.tags & FORBIDDEN_TAGS, (found.tags & FORBIDDEN_TAGS, side)
                for tag, name, value in found.attrs:
                    assert not name.startswith("on"), (tag, name, value)
                    assert name not in ("style", "srcdoc", "formaction", "xlink:href")
                    if name in ("href", "src", "action"):
                        scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                        assert scheme in ("", "http", "https", "mailto"), (tag, name, value)
            seen_text += visible_text(card.answer)
        # the harmless text around the payloads is kept
        for kept in ("bold", "styled div", "a bad link", "textContent", "Always."):
            assert kept in seen_text
    finally:
        col.close()
