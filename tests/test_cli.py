"""The click CLI through CliRunner (exit codes, output formats) and as installed commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck import __version__
from guidedeck.cli import main
from tests.conftest import FIXTURES

PARSE = FIXTURES / "parse"
DIAGNOSTIC = re.compile(r"^\S+:\d+:\d+: (error|warning): .+$")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def diagnostics(output: str) -> list[str]:
    return [line for line in output.splitlines() if DIAGNOSTIC.match(line)]


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize("command", [[sys.executable, "-m", "guidedeck"], ["guidedeck"]])
def test_installed_entry_points(command: list[str]) -> None:
    exe = Path(sys.executable).parent / "guidedeck" if command == ["guidedeck"] else None
    argv = [str(exe)] if exe else command
    done = subprocess.run([*argv, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"guidedeck, version {__version__}"


def test_check_defaults_to_the_shipped_sample(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./deck_source here: the copy shipped with guidedeck is used
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "1 guide(s), 26 card(s): ok" in result.output
    assert diagnostics(result.output) == []


def test_check_reports_warnings_and_passes(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", str(PARSE / "quick_check_errors.md")])
    assert result.exit_code == 0
    found = diagnostics(result.output)
    assert len(found) == 6
    assert all(": warning: " in line for line in found)
    assert "Traceback" not in result.output


def test_strict_turns_warnings_into_failure(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", "--strict", str(PARSE / "quick_check_errors.md")])
    assert result.exit_code == 1
    assert "6 warning(s) (--strict)" in result.output


def test_clean_guide_passes_strict(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", "--strict", str(PARSE / "quick_check.md")])
    assert result.exit_code == 0, result.output


def test_missing_path_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.md"
    result = runner.invoke(main, ["check", str(missing)])
    assert result.exit_code == 1
    assert diagnostics(result.output) == [f"{missing}:1:1: error: no such file or folder"]


def test_not_utf8_names_the_place(runner: CliRunner, tmp_path: Path) -> None:
    guide = tmp_path / "latin1.md"
    guide.write_bytes(b"# Title\n\nCaf\xe9 au lait\n")
    result = runner.invoke(main, ["check", str(guide)])
    assert result.exit_code == 1
    assert diagnostics(result.output) == [
        f"{guide}:3:4: error: file is not UTF-8 (byte 0xe9 cannot be decoded)"
    ]


def test_binary_file_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    guide = tmp_path / "image.md"
    guide.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = runner.invoke(main, ["check", str(guide)])
    assert result.exit_code == 1
    assert "binary file" in result.output


def test_folders_are_searched_and_readmes_skipped(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "README.md").write_text("# About this folder\n\n<JuniorVsSenior juniorAnswer='x'>")
    (tmp_path / "nested" / "guide.md").write_text((PARSE / "quick_check.md").read_text())
    (tmp_path / "notes.txt").write_text("not a guide")
    result = runner.invoke(main, ["list", "--format", "json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    cards = json.loads(result.stdout)
    assert {c["source"].split(":")[0] for c in cards} == {str(tmp_path / "nested" / "guide.md")}


def test_list_json_is_one_array_with_kind_source_and_content(runner: CliRunner) -> None:
    result = runner.invoke(main, ["list", "--format", "json", str(PARSE)])
    assert result.exit_code == 0
    cards = json.loads(result.stdout)
    assert isinstance(cards, list)
    assert {c["kind"] for c in cards} == {"quiz", "fact", "contrast", "scenario"}
    for card in cards:
        assert re.fullmatch(r".+\.md:\d+", card["source"])
    quiz = next(c for c in cards if c["kind"] == "quiz")
    assert {"question", "options", "correct", "answer", "explanation"} <= quiz.keys()


@pytest.mark.parametrize("kind", ["quiz", "fact", "contrast", "scenario"])
def test_list_kind_filter(runner: CliRunner, kind: str) -> None:
    result = runner.invoke(main, ["list", "--format", "json", "--kind", kind, str(PARSE)])
    cards = json.loads(result.stdout)
    assert cards
    assert {c["kind"] for c in cards} == {kind}


def test_list_table(runner: CliRunner) -> None:
    result = runner.invoke(main, ["list", str(PARSE / "tables.md")])
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KIND", "SOURCE", "CARD"]
    assert len(lines) == 1 + 5
    assert lines[1].startswith("fact")
    assert "tables.md:13" in lines[1]


def test_usage_error_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(main, ["list", "--kind", "poem"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["check", "--no-such-option"])
    assert result.exit_code == 2
