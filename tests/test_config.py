"""decks.yaml: valid files load, every problem is reported together with its YAML line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from guidedeck.config import ConfigError, load
from guidedeck.models import CardKind
from tests.conftest import FIXTURES, ROOT

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "config" / "cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_config_cases(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in case["files"]:
        Path(name).write_text("# Guide\n")
    Path("decks.yaml").write_text(case["yaml"])
    if case["expect"]:
        with pytest.raises(ConfigError) as caught:
            load(Path("decks.yaml"))
        assert [str(d) for d in caught.value.diagnostics] == case["expect"]
    else:
        config = load(Path("decks.yaml"))
        assert config.packages


def test_full_config_values(tmp_path: Path) -> None:
    case = next(c for c in CASES if c["name"] == "valid-full")
    for name in case["files"]:
        (tmp_path / name).write_text("# Guide\n")
    (tmp_path / "decks.yaml").write_text(case["yaml"])
    config = load(tmp_path / "decks.yaml")
    assert config.deck_prefix == "Prep"
    (package,) = config.packages
    assert package.output == "both.apkg"
    assert package.guides == (tmp_path / "a.md", tmp_path / "b.md")
    assert package.deck == "Prep::Both"
    assert package.kinds == (CardKind.QUIZ,)
    assert package.tags == ("interview", "extra")


def test_shipped_decks_yaml_is_valid() -> None:
    config = load(ROOT / "deck_source" / "decks.yaml")
    assert [p.output for p in config.packages] == ["backend-basics.apkg"]


def test_quiz_shuffle_from_defaults_and_per_package(tmp_path: Path) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("# Guide\n")
    (tmp_path / "decks.yaml").write_text(
        "defaults:\n  quiz: {shuffle: true}\npackages:\n  - guides: [a.md]\n"
        "  - guides: [b.md]\n    quiz: {shuffle: false}\n"
    )
    config = load(tmp_path / "decks.yaml")
    assert [p.shuffle for p in config.packages] == [True, False]


def test_dialect_names_agree_between_cli_and_registry() -> None:
    # the CLI lists them literally so that --help imports no parser
    from guidedeck.cli import DIALECT
    from guidedeck.parse.dialects import NAMES

    option = DIALECT(lambda: None).__click_params__[0]  # type: ignore[attr-defined]
    assert tuple(option.type.choices) == NAMES
