"""Fixture guides beside their expected card models and diagnostics (YAML), one test each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from guidedeck.listing import card_dict
from guidedeck.parse import parse
from tests.conftest import FIXTURES, UPDATE

CASES = sorted((FIXTURES / "parse").glob("*.md"))


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings as ``|`` blocks so expected files read like the guides."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def snapshot(path: Path, text: str | None = None) -> dict[str, Any]:
    """Everything the parser says about a fixture, as plain data."""
    result = parse(path.read_text(encoding="utf-8") if text is None else text, path.name)
    guide = result.guide
    return {
        "title": guide.title,
        "slug": guide.slug,
        "questions": [
            {
                "number": q.number,
                "title": q.title,
                "type": q.type,
                "category": q.category,
                "line": q.loc.line,
            }
            for q in guide.questions
        ],
        "cards": [card_dict(card) for card in guide.cards],
        "diagnostics": [str(d) for d in result.diagnostics],
    }


@pytest.mark.parametrize("fixture", CASES, ids=[p.stem for p in CASES])
def test_fixture_matches_expected(fixture: Path) -> None:
    expected_file = fixture.with_suffix(".yaml")
    got = snapshot(fixture)
    if UPDATE:
        expected_file.write_text(
            yaml.dump(got, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
        )
    assert expected_file.exists(), f"{expected_file.name} missing: record it with UPDATE=1"
    assert got == yaml.safe_load(expected_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("fixture", CASES, ids=[p.stem for p in CASES])
def test_bom_and_crlf_parse_like_the_clean_file(fixture: Path) -> None:
    clean = fixture.read_text(encoding="utf-8")
    dirty = "\ufeff" + clean.replace("\n", "\r\n")
    assert snapshot(fixture, dirty) == snapshot(fixture, clean)


def test_fixture_set_is_not_empty() -> None:
    assert len(CASES) >= 8
