"""Notetype identity is frozen, templates only use fields that exist, colours stay readable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from guidedeck.build import build
from guidedeck.cards import KINDS
from guidedeck.config import default_package
from guidedeck.highlight import DARK_BG, LIGHT_BG, code_css, contrast
from guidedeck.models import CardKind
from guidedeck.notetypes import design, stylesheet
from guidedeck.resources import data_dir
from tests.anki_engine import fresh_collection, import_package
from tests.conftest import FIXTURES, ROOT

FROZEN: dict[str, Any] = yaml.safe_load((FIXTURES / "notetypes.yaml").read_text("utf-8"))


@pytest.mark.parametrize("kind", KINDS.kinds(), ids=lambda k: k.value)
def test_notetype_identity_is_frozen(kind: CardKind) -> None:
    spec, frozen = KINDS[kind].notetype, FROZEN[kind.value]
    assert spec.model_id == frozen["id"]
    assert spec.name == frozen["name"]
    assert list(spec.fields) == frozen["fields"]
    assert [spec.field_id(n) for n in range(len(spec.fields))] == frozen["field_ids"]
    assert [spec.template] == frozen["templates"]
    assert [spec.template_id] == frozen["template_ids"]
    assert spec.sort_field == frozen["sort_field"]


def test_ids_reach_anki_unchanged(tmp_path: Path) -> None:
    guide = ROOT / "deck_source" / "backend-basics.md"  # has all four kinds
    report = build([default_package(guide)], tmp_path / "out")
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, report.packages[0].output)
        for kind in ("quiz", "fact", "contrast", "scenario"):
            frozen = FROZEN[kind]
            model = col.models.get(frozen["id"])
            assert model is not None, kind
            assert model["name"] == frozen["name"]
            assert [f["name"] for f in model["flds"]] == frozen["fields"]
            assert [f["id"] for f in model["flds"]] == frozen["field_ids"]
            assert [t["id"] for t in model["tmpls"]] == frozen["template_ids"]
    finally:
        col.close()


@pytest.mark.parametrize("kind", KINDS.kinds(), ids=lambda k: k.value)
def test_templates_reference_only_real_fields(kind: CardKind) -> None:
    notetype = design(kind)
    used = set()
    for template in (notetype.front, notetype.back):
        used |= {m.strip("#/^ ") for m in re.findall(r"{{([^}]+)}}", template)}
    assert used - {"FrontSide"} <= set(notetype.spec.fields)
    scripts = re.findall(r"<script>(.*?)</script>", notetype.front + notetype.back, re.S)
    if kind == CardKind.QUIZ:
        # the one shared quiz script on both sides (tap to answer); Anki would read a {{ in it
        # as a field
        shared = (data_dir("templates") / "quiz" / "quiz.js").read_text(encoding="utf-8").strip()
        assert [s.strip() for s in scripts] == [shared, shared]
        assert "{{" not in shared and "}}" not in shared
    else:
        assert scripts == []  # the other cards need no JavaScript


def test_css_has_no_network_and_no_inline_code_colours() -> None:
    css = stylesheet()
    assert "url(" not in css and "@import" not in css
    assert ".nightMode" in css and ".night_mode" in css


def _colours(css: str, scope: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(scope)} \.gd-\w+ {{[^}}]*color: (#[0-9a-f]{{6}})", re.M)
    return pattern.findall(css)


@pytest.mark.parametrize(
    ("scope", "background"),
    [(".gd-code", LIGHT_BG), (".nightMode .gd-code", DARK_BG), (".night_mode .gd-code", DARK_BG)],
)
def test_code_token_colours_reach_3_to_1(scope: str, background: str) -> None:
    colours = _colours(code_css(), scope)
    assert len(colours) > 20
    worst = min(contrast(c, background) for c in colours)
    assert worst >= 3.0, worst


def _vars(block: str) -> dict[str, str]:
    return dict(re.findall(r"--(gd-[\w-]+):\s*(#[0-9a-f]{6})", block))


def test_text_colours_reach_4_5_to_1_in_light_and_night() -> None:
    css = stylesheet()
    light_block, night_block = css.split(".card.nightMode", 1)
    for block in (light_block, night_block.split("}", 1)[0]):
        v = _vars(block)
        for fg, bg in [("gd-fg", "gd-bg"), ("gd-muted", "gd-bg"), ("gd-accent", "gd-bg"),
                       ("gd-code-fg", "gd-code-bg"), ("gd-good", "gd-good-bg"),
                       ("gd-bad", "gd-bad-bg"), ("gd-fg", "gd-hit-bg")]:  # fmt: skip
            assert contrast(v[fg], v[bg]) >= 4.5, (fg, bg, v[fg], v[bg])
