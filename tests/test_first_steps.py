"""A new user's first steps (issue #27): with no paths, commands work on the folder's own
``decks.yaml``, else ``./deck_source/``, else the shipped sample, and say which; ``guidedeck init``
writes a first ``decks.yaml`` and the lock files' git merge line, overwriting nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from guidedeck.config import DEFAULT_KEYS, PACKAGE_KEYS
from guidedeck.starter import LOCK_MERGE
from tests.anki_engine import assert_every_deck_imports
from tests.conftest import FIXTURES, ROOT

QUIZ = FIXTURES / "parse" / "quick_check.md"
SAMPLE = ROOT / "deck_source" / "backend-basics.md"


def _lay_out(folder: Path, layout: str) -> None:
    if layout in ("decks.yaml", "both"):
        shutil.copyfile(QUIZ, folder / "quiz.md")
        (folder / "decks.yaml").write_text("version: 1\npackages:\n  - guides: [quiz.md]\n")
    if layout in ("deck_source", "both"):
        (folder / "deck_source").mkdir()
        shutil.copyfile(SAMPLE, folder / "deck_source" / "mine.md")


# layout: (what the command says it uses, the .apkg files a build writes)
DEFAULTS = {
    "decks.yaml": ("using ./decks.yaml", ["quiz.apkg"]),
    "deck_source": ("using ./deck_source/", ["mine.apkg"]),
    "both": ("using ./decks.yaml", ["quiz.apkg"]),
    "neither": ("using guidedeck's sample guide", ["backend-basics.apkg"]),
}


@pytest.mark.parametrize("layout", list(DEFAULTS))
def test_with_no_paths_the_folder_decides_and_the_command_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    _lay_out(tmp_path, layout)
    monkeypatch.chdir(tmp_path)
    said, written = DEFAULTS[layout]
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert said in result.output
    assert sorted(p.name for p in (tmp_path / "build").glob("*.apkg")) == written
    assert_every_deck_imports((tmp_path / "build").glob("*.apkg"), tmp_path / "anki", set())
    # every command resolves its inputs by the same rule
    for command in (["check"], ["list"], ["preview"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
        assert said in result.output, command


def test_a_folder_with_its_own_decks_yaml_never_gets_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reported: in a folder holding a decks.yaml, `build` built the shipped sample, and a later
    `build .` reported the sample's 26 notes as removed."""
    _lay_out(tmp_path, "decks.yaml")
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["build"])
    second = CliRunner().invoke(main, ["build", "."])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    total = next(line for line in second.output.splitlines() if line.startswith("total"))
    added, changed, unchanged, removed = total.split()[5:9]
    assert (added, changed, unchanged, removed) == ("0", "0", "3", "0"), second.output
    assert sorted(p.name for p in (tmp_path / "build").glob("*.apkg")) == ["quiz.apkg"]
    assert_every_deck_imports([tmp_path / "build" / "quiz.apkg"], tmp_path / "anki", set())


def _folder_of_guides(folder: Path) -> None:
    (folder / "topics" / "containers").mkdir(parents=True)
    shutil.copyfile(QUIZ, folder / "quiz.md")
    shutil.copyfile(SAMPLE, folder / "topics" / "containers" / "backend.md")
    (folder / "NOTES.md").write_text("# Notes\n\nNothing to learn here yet.\n")


def _packages(folder: Path) -> list[str]:
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    build = CliRunner().invoke(main, ["build", str(folder), "--out", str(folder / "out")])
    assert build.exit_code == 0, build.output
    decks = sorted((folder / "out").glob("*.apkg"))
    assert_every_deck_imports(decks, folder / "anki", set())
    return [deck.name for deck in decks]


def test_init_writes_a_decks_yaml_that_builds_what_the_folder_built(tmp_path: Path) -> None:
    scanned, started = tmp_path / "scanned", tmp_path / "started"
    for folder in (scanned, started):
        folder.mkdir()
        _folder_of_guides(folder)
    result = CliRunner().invoke(main, ["init", str(started)])
    assert result.exit_code == 0, result.output
    assert "2 package(s)" in result.output
    config = (started / "decks.yaml").read_text(encoding="utf-8")
    # a comment on every key it writes
    for line in config.splitlines():
        if ":" in line and not line.lstrip().startswith("#") and line.strip() != "packages:":
            assert "#" in line or line.strip() in ("version: 1", "defaults:"), line
    assert "#   NOTES.md" in config  # makes no cards: named, not listed (it would stop a build)
    # every key decks.yaml understands is written or shown commented out
    for key in (*DEFAULT_KEYS, *PACKAGE_KEYS):
        assert re.search(rf"^\s*(?:# |- )?{key}:", config, re.M), key
    assert _packages(started) == _packages(scanned) == ["backend.apkg", "quiz.apkg"]


def test_init_overwrites_nothing(tmp_path: Path) -> None:
    _folder_of_guides(tmp_path)
    (tmp_path / ".gitattributes").write_text("*.png binary")  # no newline at its end
    assert CliRunner().invoke(main, ["init", str(tmp_path)]).exit_code == 0
    config = (tmp_path / "decks.yaml").read_bytes()
    (tmp_path / "decks.yaml").write_text(config.decode() + "# my edit\n")
    again = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "exists: left as it is" in again.output and "already in" in again.output
    assert (tmp_path / "decks.yaml").read_bytes() == config + b"# my edit\n"
    assert (tmp_path / ".gitattributes").read_text() == f"*.png binary\n{LOCK_MERGE}\n"


def test_git_merges_lock_files_line_by_line_after_init(tmp_path: Path) -> None:
    _folder_of_guides(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert CliRunner().invoke(main, ["init", str(tmp_path)]).exit_code == 0
    done = subprocess.run(
        ["git", "check-attr", "merge", "--", "quiz.guidedeck.lock"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "quiz.guidedeck.lock: merge: union"


def test_init_refuses_what_is_no_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "missing")])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert not (tmp_path / "missing").exists()
