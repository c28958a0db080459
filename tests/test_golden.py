"""Golden files: the front and back of a few cards of each kind, exactly as Anki renders them."""

from __future__ import annotations

from pathlib import Path

import pytest

from guidedeck.build import build
from guidedeck.config import default_package
from tests.anki_engine import Rendered, fresh_collection, import_package, render_all
from tests.conftest import ROOT, TESTS, UPDATE

GOLDEN = TESTS / "golden"
SAMPLE = ROOT / "deck_source" / "backend-basics.md"
PER_KIND = 2


@pytest.fixture(scope="module")
def sample_cards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    tmp = tmp_path_factory.mktemp("golden")
    report = build([default_package(SAMPLE)], tmp / "out")
    col = fresh_collection(tmp / "anki")
    try:
        import_package(col, report.packages[0].output)
        cards = render_all(col)
    finally:
        col.close()
    chosen: dict[str, Rendered] = {}
    for kind in ("Quiz", "Fact", "Contrast", "Scenario"):
        of_kind = sorted(
            (c for c in cards if c.notetype == f"guidedeck {kind}"), key=lambda c: c.due
        )
        for n, card in enumerate(of_kind[:PER_KIND], start=1):
            chosen[f"{kind.lower()}-{n}"] = card
    return chosen


NAMES = [f"{k}-{n}" for k in ("quiz", "fact", "contrast", "scenario") for n in (1, 2)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("side", ["front", "back"])
def test_rendered_card_matches_golden(
    sample_cards: dict[str, Rendered], name: str, side: str
) -> None:
    card = sample_cards[name]
    html = card.question if side == "front" else card.answer
    golden: Path = GOLDEN / f"{name}.{side}.html"
    if UPDATE:
        golden.write_text(html + "\n", encoding="utf-8")
    assert golden.exists(), f"{golden.name} missing: record it with GUIDEDECK_UPDATE_GOLDEN=1"
    assert html + "\n" == golden.read_text(encoding="utf-8")
