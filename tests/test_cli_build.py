"""``guidedeck build`` through CliRunner: outputs, summary, exit codes, nothing clobbered."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import (
    assert_every_deck_imports,
    assert_healthy_import,
    fresh_collection,
    import_package,
)
from tests.conftest import FIXTURES, copy_guides, out_names

PARSE = FIXTURES / "parse"


@pytest.fixture
def guides(tmp_path: Path) -> Path:
    """A copy of the fixture guides: builds write lock files beside the guides they read."""
    copy_guides(tmp_path / "guides", *sorted(PARSE.glob("*.md")))
    return tmp_path / "guides"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_one_package_per_guide_named_by_stem(tmp_path: Path, guides: Path) -> None:
    code, output = run("build", str(guides / "scenarios.md"), str(guides / "tables.md"),
                       "--out", str(tmp_path / "decks"))  # fmt: skip
    assert code == 0, output
    # beside the decks, only the build cache and the record of the decks written
    assert sorted(p.name for p in (tmp_path / "decks").iterdir()) == [
        ".guidedeck-cache",
        ".guidedeck-decks.json",
        "scenarios.apkg",
        "tables.apkg",
    ]
    lines = output.splitlines()
    header = "guide quiz fact contrast scenario added changed unchanged removed warnings package"
    assert lines[0].split() == header.split()
    # kinds 0 2 1 2; all 5 added on this first build; no warnings
    assert re.match(r"scenarios\.md(\s+\d+){9}\s+\S+scenarios\.apkg", lines[1])
    assert lines[1].split()[1:10] == ["0", "2", "1", "2", "5", "0", "0", "0", "0"]
    assert "2 of 2 package(s) written" in output


def test_folder_builds_every_guide(tmp_path: Path, guides: Path) -> None:
    code, output = run("build", str(guides), "--out", str(tmp_path / "out"))
    assert code == 0
    # every fixture but the one that only lists questions (said, not an error: a folder scan)
    assert len(list((tmp_path / "out").glob("*.apkg"))) == len(list(PARSE.glob("*.md"))) - 1
    assert "dialect_unanswered.md: made no cards; no deck written" in output


def test_strict_fails_and_writes_nothing(tmp_path: Path, guides: Path) -> None:
    code, output = run("build", "--strict", str(guides / "quick_check_errors.md"),
                       "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 1
    assert "(--strict)" in output
    assert "not written" in output
    assert not (tmp_path / "out").exists()
    assert not list(guides.glob("*.guidedeck.lock"))


def test_warnings_alone_still_build(tmp_path: Path, guides: Path) -> None:
    code, output = run("build", str(guides / "quick_check_errors.md"), "--out", str(tmp_path))
    assert code == 0, output
    assert (tmp_path / "quick_check_errors.apkg").is_file()
    assert (guides / "quick_check_errors.guidedeck.lock").is_file()
    assert re.search(r"quick_check_errors\.md:3:1: warning: ", output)


def test_unreadable_guide_keeps_the_previous_deck(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    shutil.copy(PARSE / "quick_check.md", guide)
    out = tmp_path / "out"
    assert run("build", str(guide), "--out", str(out))[0] == 0
    before = (out / "guide.apkg").read_bytes()
    guide.write_bytes(b"# Broken\n\n\xff\xfe not UTF-8\n")
    code, output = run("build", str(guide), "--out", str(out))
    assert code == 1
    assert f"{guide}:3:1: error: file is not UTF-8" in output
    assert (out / "guide.apkg").read_bytes() == before
    assert out_names(out) == ["guide.apkg"]  # no temporary left over


def test_output_path_that_is_a_file(tmp_path: Path, guides: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder")
    code, output = run("build", str(guides / "tables.md"), "--out", str(target))
    assert code == 1
    assert "output path is a file" in output
    assert target.read_text() == "not a folder"


def test_broken_decks_yaml_is_reported_with_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "deck_source").mkdir()
    (tmp_path / "deck_source" / "decks.yaml").write_text("packages:\n  - guides: [nope.md]\n")
    monkeypatch.chdir(tmp_path)
    code, output = run("build")
    assert code == 1
    assert (
        "deck_source/decks.yaml:2:14: error: guide 'nope.md' not found beside decks.yaml" in output
    )
    assert not (tmp_path / "build").exists()


def test_local_deck_source_with_kinds_and_deck_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "deck_source"
    source.mkdir()
    shutil.copy(PARSE / "scenarios.md", source / "one.md")
    shutil.copy(PARSE / "quick_check.md", source / "two.md")
    (source / "decks.yaml").write_text(
        "packages:\n  - guides: [one.md, two.md]\n    output: both.apkg\n"
        "    deck: Prep::Both\n    kinds: [quiz, scenario]\n    tags: [mine]\n"
    )
    monkeypatch.chdir(tmp_path)
    code, output = run("build")
    assert code == 0, output
    col = fresh_collection(tmp_path / "anki")
    try:
        cards = assert_healthy_import(col, import_package(col, tmp_path / "build" / "both.apkg"), 5)
        assert {c.notetype for c in cards} == {"guidedeck Quiz", "guidedeck Scenario"}
        assert "Prep::Both" in {d.name for d in col.decks.all_names_and_ids()}
        assert all("mine" in col.get_note(n).tags for n in col.find_notes(""))
    finally:
        col.close()


def test_parallel_build_writes_the_same_bytes(tmp_path: Path) -> None:
    from guidedeck.build import build
    from guidedeck.config import default_package

    decks = []
    for jobs in (1, 2):
        folder = tmp_path / f"jobs{jobs}"
        with_cards = [p for p in sorted(PARSE.glob("*.md")) if p.stem != "dialect_unanswered"]
        guides = copy_guides(folder / "guides", *with_cards)
        report = build([default_package(g, "Prep") for g in guides], folder / "out",
                       now=1_700_000_000, jobs=jobs)  # fmt: skip
        assert all(p.written for p in report.packages)
        decks.append({p.output.name: p.output.read_bytes() for p in report.packages})
        decks.append({g.name: (g.parent / f"{g.stem}.guidedeck.lock").read_bytes() for g in guides})
    assert decks[0] == decks[2] and decks[1] == decks[3]


def test_jobs_option(tmp_path: Path, guides: Path) -> None:
    code, output = run("build", str(guides), "--out", str(tmp_path / "out"), "--jobs", "2")
    assert code == 0, output
    assert run("build", str(guides), "--jobs", "0")[0] == 2


def test_dry_run_predicts_the_empty_package_error(tmp_path: Path) -> None:
    # a package that is not written fails the build (CI must not keep a stale deck), and the
    # dry run and check say so beforehand
    guide = tmp_path / "notes.md"
    guide.write_text("# Notes\n\nNothing to learn here.\n")
    for command in (["build"], ["build", "--dry-run"], ["check"]):
        code, output = run(*command, str(guide), "--out", str(tmp_path / "out"))
        assert code == 1, command
        assert f"{guide}:1:1: error: no cards for notes.apkg; nothing written" in output
    assert not (tmp_path / "out").exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_for_multi_guide_builds(
    tmp_path: Path, guides: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guidedeck import cli

    terminal = _Terminal()
    monkeypatch.setattr(cli.sys, "stderr", terminal)
    with cli._progress(3) as advance:
        for n in range(3):
            advance(guides / f"{n}.md")
    assert "Building" in terminal.getvalue() and "100%" in terminal.getvalue()

    quiet = _Terminal()
    monkeypatch.setattr(cli.sys, "stderr", quiet)
    with cli._progress(1) as advance:  # one guide: no bar
        advance(guides / "one.md")
    assert quiet.getvalue() == ""


def test_a_loose_guides_deck_name_ignores_the_other_paths(tmp_path: Path) -> None:
    """A package's deck names follow from its own configuration: a guide given alone is
    ``Interview Guides::<title>`` whether or not a folder with a ``decks.yaml`` (and its own
    ``deck_prefix``) is built beside it (issue #22)."""
    from guidedeck.build import build
    from guidedeck.inputs import resolve
    from guidedeck.memory import read_deck

    project = tmp_path / "project"
    copy_guides(project, PARSE / "tables.md")
    (project / "decks.yaml").write_text(
        "version: 1\ndefaults:\n  deck_prefix: Prep\npackages:\n  - guides: [tables.md]\n",
        encoding="utf-8",
    )
    (loose,) = copy_guides(tmp_path / "loose", PARSE / "quick_check.md")
    names = {}
    for label, paths in (("alone", [loose]), ("beside", [project, loose])):
        inputs = resolve(paths)
        out = tmp_path / f"out-{label}"
        build(inputs.packages, out, roots=inputs.roots, now=1_700_000_000)
        names[label] = {n.deck for n in read_deck(out / "quick_check.apkg")}
        if label == "beside":
            assert {n.deck for n in read_deck(out / "tables.apkg")} == {"Prep::Table Variants"}
        assert_every_deck_imports(sorted(out.glob("*.apkg")), tmp_path / f"anki-{label}", set())
    assert names["alone"] == names["beside"]
    assert all(name.startswith("Interview Guides::") for name in names["alone"])
