"""The family's syntaxes are plugins (issue #16): each rule in ``RULES`` makes its own cards and
no other's. Taking one rule out of the list removes exactly the cards it made, on the sample
guide, on every parse fixture and on the shared corpus."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from guidedeck.models import Contrast, Fact, Quiz
from guidedeck.parse import markdown, normalize
from guidedeck.parse.blocks import Source, build_tree
from guidedeck.parse.extract import Extracted, extract
from guidedeck.parse.family import RULES
from tests.conftest import FIXTURES, ROOT, corpus_guides

ORIGIN = {
    "quick-check": "quick-check",
    "interview-quiz": "InterviewQuiz",
    "junior-vs-senior": "JuniorVsSenior",
    "callouts": "callout",
}
"""The ``origin`` each card-making rule writes on its quizzes and contrasts."""
GUIDES = [
    ROOT / "deck_source" / "backend-basics.md",
    *sorted((FIXTURES / "parse").glob("*.md")),
    *corpus_guides(),
]


def _extract(path: Path, without: str = "") -> Extracted:
    text = normalize(path.read_text(encoding="utf-8"))
    source = Source(text.replace("\0", "\ufffd"))
    tree = build_tree(markdown().parse(text, {}))
    return extract(str(path), source, tree, [r for r in RULES if r.name != without])


def _cards(out: Extracted, rule: str) -> tuple[list[Quiz | Contrast | Fact], list[object]]:
    """Cards ``rule`` made, and every other quiz, contrast and fact."""
    cards: list[Quiz | Contrast | Fact] = [*out.quizzes, *out.contrasts, *out.facts]
    if rule == "tables":
        return [c for c in cards if isinstance(c, Fact)], [
            c for c in cards if not isinstance(c, Fact)
        ]
    mine = [c for c in cards if not isinstance(c, Fact) and c.origin == ORIGIN[rule]]
    # a contrast's part name numbers the contrasts of its question ("part 2 of 3"), so it
    # depends on all of them, whichever rule made them
    return mine, [
        replace(c, part="") if isinstance(c, Contrast) else c for c in cards if c not in mine
    ]


def test_rules_are_registered_once_in_order() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    # sections open before any syntax reads a heading; the section's text takes what is left
    assert names[0] == "question-sections" and names[-1] == "section-text"
    assert set(ORIGIN) | {"tables"} <= set(names)


@pytest.mark.parametrize("rule", [*ORIGIN, "tables"])
@pytest.mark.parametrize("path", GUIDES, ids=[p.name for p in GUIDES])
def test_a_rule_makes_only_its_own_cards(path: Path, rule: str) -> None:
    whole = _extract(path)
    _mine, others = _cards(whole, rule)
    without = _extract(path, without=rule)
    gone, kept = _cards(without, rule)
    assert gone == []
    assert kept == others


def test_the_sample_guide_uses_every_card_rule() -> None:
    """So the test above removes something real from the guide every user builds first."""
    whole = _extract(ROOT / "deck_source" / "backend-basics.md")
    for rule in [*ORIGIN, "tables"]:
        assert _cards(whole, rule)[0], rule
