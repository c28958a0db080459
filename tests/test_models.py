"""Card models are frozen, slotted and carry their source location."""

from __future__ import annotations

import dataclasses

import pytest

from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.models import CardKind, Contrast, Fact, Quiz, Scenario
from guidedeck.parse import parse
from tests.conftest import FIXTURES

GUIDE = parse((FIXTURES / "parse" / "scenarios.md").read_text("utf-8"), "scenarios.md").guide


@pytest.mark.parametrize("card", GUIDE.cards, ids=lambda c: f"{c.kind.value}-{c.loc.line}")
def test_cards_are_frozen_and_located(card: Quiz | Fact | Contrast | Scenario) -> None:
    assert isinstance(card.loc, SourceLoc)
    assert card.loc.path == "scenarios.md"
    assert card.loc.line >= 1
    assert not hasattr(card, "__dict__")  # slotted
    field = dataclasses.fields(card)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(card, field, None)


def test_every_kind_appears_in_the_fixture() -> None:
    assert {c.kind for c in GUIDE.cards} == {CardKind.SCENARIO, CardKind.CONTRAST, CardKind.FACT}


def test_diagnostic_format() -> None:
    diagnostic = Diagnostic.warning(SourceLoc("guides/aws.md", 12, 3), "something is off")
    assert str(diagnostic) == "guides/aws.md:12:3: warning: something is off"
    assert str(Diagnostic.error(SourceLoc("a.md", 1), "x")) == "a.md:1:1: error: x"
