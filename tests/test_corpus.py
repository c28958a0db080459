"""The 16 real guides of ../shared/corpus as a regression suite (skipped where absent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from guidedeck.diagnostics import Severity
from guidedeck.models import Guide, Scenario
from guidedeck.parse import ParseResult, markdown, parse
from tests.conftest import FIXTURES, corpus_guides

EXPECTED: dict[str, Any] = yaml.safe_load((FIXTURES / "corpus_expected.yaml").read_text())
GUIDES = corpus_guides()
pytestmark = pytest.mark.skipif(not GUIDES, reason="shared corpus (../shared/corpus) not found")

_cache: dict[Path, ParseResult] = {}


def parsed(path: Path) -> ParseResult:
    if path not in _cache:
        _cache[path] = parse(path.read_text(encoding="utf-8"), path.name)
    return _cache[path]


def all_guides() -> list[Guide]:
    return [parsed(p).guide for p in GUIDES]


def questions(guide: Guide) -> list[Scenario]:
    """The question cards of a guide (each question's own; its answer's parts aside)."""
    return [s for s in guide.scenarios if s.part == 0]


@pytest.mark.parametrize("path", GUIDES, ids=[p.stem for p in GUIDES])
def test_guide_counts_match_data_file(path: Path) -> None:
    result = parsed(path)
    guide = result.guide
    expected = EXPECTED["guides"][path.name]
    got = {
        "title": guide.title,
        "quizzes": len(guide.quizzes),
        "facts": len(guide.facts),
        "contrasts": len(guide.contrasts),
        "scenarios": len(questions(guide)),
        "parts": len(guide.scenarios) - len(questions(guide)),
        "warnings": sum(d.severity is Severity.WARNING for d in result.diagnostics),
    }
    assert got == expected
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR]


def test_every_corpus_guide_has_an_expectation() -> None:
    assert sorted(p.name for p in GUIDES) == sorted(EXPECTED["guides"])


def test_totals() -> None:
    guides = all_guides()
    totals = EXPECTED["totals"]
    assert sum(len(g.quizzes) for g in guides) == totals["quizzes"] == 153
    assert sum(len(g.contrasts) for g in guides) == totals["contrasts"] == 138
    assert sum(len(questions(g)) for g in guides) == totals["scenarios"] == 192
    assert sum(len(g.scenarios) - len(questions(g)) for g in guides) == totals["parts"]
    assert sum(len(g.facts) for g in guides) == totals["facts"] == 823


def test_every_quiz_is_complete() -> None:
    for guide in all_guides():
        for quiz in guide.quizzes:
            where = str(quiz.loc)
            assert quiz.prompt.strip(), where
            assert len(quiz.options) >= 2, where
            assert all(o.strip() for o in quiz.options), where
            assert 0 <= quiz.correct < len(quiz.options), where
            assert quiz.explanation.strip(), where
            # the correct option lost its bold markers, and no option kept its '->' marker
            assert not any(o.startswith(("->", "**")) for o in quiz.options), where


def test_quick_checks_and_components_both_count() -> None:
    origins = [q.origin for g in all_guides() for q in g.quizzes]
    assert origins.count("quick-check") == 143
    assert origins.count("InterviewQuiz") == 10


def test_every_fact_has_two_non_empty_cells_and_a_context() -> None:
    for guide in all_guides():
        for fact in guide.facts:
            assert sum(1 for c in fact.cells if c) >= 2, str(fact.loc)
            assert len(fact.cells) == len(fact.headers), str(fact.loc)
            assert fact.context.lower() != "questions overview", str(fact.loc)


def test_rows_left_out_are_exactly_the_half_empty_ones() -> None:
    # every table row outside the overview tables is a fact, except these two
    guide = parsed(next(p for p in GUIDES if p.name == "postgresql.md")).guide
    lines = {f.loc.line for f in guide.facts}
    assert {247, 927}.isdisjoint(lines)
    # and each is reported, where it is, rather than dropped in silence
    reported = parsed(next(p for p in GUIDES if p.name == "postgresql.md")).diagnostics
    assert [(d.loc.line, "only one filled cell" in d.message) for d in reported] == [
        (247, True),
        (927, True),
    ]
    tables = {f.table for g in all_guides() for f in g.facts}
    rows = sum(len(t.rows) for t in tables)
    assert rows == 823 + 2


def test_every_contrast_has_both_sides() -> None:
    for guide in all_guides():
        for contrast in guide.contrasts:
            assert contrast.mistake.text and contrast.senior.text, str(contrast.loc)
            assert "Common Mistake" not in contrast.mistake.text, str(contrast.loc)
            assert "Senior Engineer Approach" not in contrast.senior.text, str(contrast.loc)


def test_every_scenario_has_its_parts() -> None:
    for guide in all_guides():
        numbers = [s.question.number for s in questions(guide)]
        assert numbers == list(range(1, 13)), guide.path
        for scenario in questions(guide):
            where = str(scenario.loc)
            assert scenario.scenario and scenario.challenge, where
            assert scenario.question.type and scenario.question.category, where
            assert scenario.outline, where
            titles = [o.title for o in scenario.outline]
            assert "Quick Check" not in titles, where
            assert not any(t.startswith("Practice with") for t in titles), where


def test_nothing_is_taken_from_fenced_code() -> None:
    for path in GUIDES:
        tokens = markdown().parse(path.read_text(encoding="utf-8"))
        fenced = {
            line
            for t in tokens
            if t.type in ("fence", "code_block") and t.map
            for line in range(t.map[0] + 1, t.map[1] + 1)
        }
        assert fenced, path.name
        guide = parsed(path).guide
        contexts = [f.context for f in guide.facts]
        for card in guide.cards:
            assert card.loc.line not in fenced, str(card.loc)
        # shell comments such as '# Check ...' inside fences never become heading contexts
        headings = {
            t.content
            for t in tokens
            if t.type == "inline"
            and t.map
            and t.map[0] + 1 in {h.map[0] + 1 for h in tokens if h.type == "heading_open" and h.map}
        }
        assert set(contexts) <= headings, path.name
