"""Hostile and broken guides: each case ends with a message naming the file, the right exit code,
no traceback, and the deck built last time untouched."""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.build import build
from guidedeck.cli import main
from guidedeck.config import default_package
from tests.anki_engine import fresh_collection, import_package, visible_text
from tests.conftest import FIXTURES, out_names

GOOD = (FIXTURES / "parse" / "scenarios.md").read_text(encoding="utf-8")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@dataclass(frozen=True)
class Case:
    """A broken guide, and what ``check`` and ``build`` must say about it."""

    name: str
    content: Callable[[], bytes]
    check_exit: int
    message: str
    """A regular expression the output must match; ``{path}`` stands for the guide's path."""
    builds: bool
    """Whether ``build`` writes a deck from it (the rest of the guide is still usable)."""


CASES = [
    # a package that is not written fails the build, or CI would keep a stale deck
    Case("empty file", lambda: b"", 1, r"{path}:1:1: warning: guide is empty", False),
    Case("only blank lines", lambda: b"\n  \n\t\n", 1, r"{path}:1:1: warning: guide is empty",
         False),
    Case("not UTF-8", lambda: b"# Title\n\nCaf\xe9 au lait\n", 1,
         r"{path}:3:4: error: file is not UTF-8 \(byte 0xe9 cannot be decoded\)", False),
    Case("binary file", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", 1,
         r"{path}:3:1: error: binary file \(NUL byte\), not a Markdown guide", False),
    Case("component never closed",
         lambda: (GOOD + '\n<JuniorVsSenior juniorAnswer="a" seniorAnswer="b">\n\nBody\n').encode(),
         0, r"{path}:86:1: warning: <JuniorVsSenior> is never closed with </JuniorVsSenior>",
         True),
    Case("string never closed",
         lambda: (GOOD + '\n<InterviewQuiz question="never closed\n\nafter\n').encode(),
         0, r"{path}:86:25: warning: string in attribute 'question' of <InterviewQuiz> is never "
            r"closed", True),
    Case("string closed by a later quote",
         lambda: (GOOD + '\n<InterviewQuiz question="open\n  options={["a"]}\n\nafter\n').encode(),
         0, r"{path}:87:15: warning: unexpected '\"' in <InterviewQuiz> tag \(is the string of "
            r"'question' closed\? it spans several lines\)", True),
    Case("line of several megabytes",
         lambda: (GOOD + "\n" + "lorem ipsum " * 400_000 + "\n").encode(), 0,
         r"1 guide\(s\), 5 card\(s\): ok", True),
    Case("thousands of nested block quotes",
         lambda: ("> " * 5000 + "deep\n\n" + GOOD).encode(), 0,
         r"{path}:1:1: warning: quotes or lists nested too deeply; lines 1 to 1 skipped", True),
    Case("thousands of nested list levels",
         lambda: ("".join("  " * i + "- level\n" for i in range(3000)) + "\n" + GOOD).encode(),
         0, r"{path}:10:1: warning: quotes or lists nested too deeply; lines 10 to 3001 skipped",
         True),
    Case("card text too long",
         lambda: (GOOD.replace("It only happens in development.", "word " * 10_000)).encode(), 0,
         r"{path}:5:1: warning: card text of [\d,]+ characters shortened to", True),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_reports_the_case(case: Case, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_bytes(case.content())
    code, output = run("check", str(guide))
    assert code == case.check_exit, output
    assert re.search(case.message.format(path=re.escape(str(guide))), output), output


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_build_keeps_the_previous_deck_unless_usable(case: Case, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    out = tmp_path / "out"
    guide.write_text(GOOD, encoding="utf-8")
    assert run("build", str(guide), "--out", str(out))[0] == 0
    deck = out / "guide.apkg"
    before = deck.read_bytes()

    guide.write_bytes(case.content())
    code, output = run("build", str(guide), "--out", str(out))
    assert code == case.check_exit, output
    assert str(guide) in output or "guide.md" in output
    if case.builds:
        assert "1 of 1 package(s) written" in output
        col = fresh_collection(tmp_path / "anki")
        try:
            log = import_package(col, deck)
            assert len(log.conflicting) == 0
            assert col.note_count() == 5
            for cid in col.find_cards(""):
                assert visible_text(col.get_card(cid).render_output().answer_text)
        finally:
            col.close()
    else:
        assert "not written" in output
        assert deck.read_bytes() == before
    assert out_names(out) == ["guide.apkg"]  # nothing left behind


def test_strict_fails_on_an_empty_guide(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("")
    code, output = run("check", "--strict", str(guide))
    assert code == 1
    assert f"{guide}:1:1: warning: guide is empty" in output


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "guide.md"
    for command in ("check", "list", "build"):
        code, output = run(command, str(missing))
        assert code == 1, command
        assert f"{missing}:1:1: error: no such file or folder" in output


def test_output_path_not_writable(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GOOD)
    # /proc refuses new files even to root, so this holds whoever runs the tests
    code, output = run("build", str(guide), "--out", "/proc/guidedeck-test/out")
    assert code == 1
    # said of the folder, before any guide is read (#23)
    assert "/proc/guidedeck-test/out: cannot write the output there (" in output


def test_full_disk_keeps_the_previous_deck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = tmp_path / "guide.md"
    out = tmp_path / "out"
    guide.write_text(GOOD)
    assert run("build", str(guide), "--out", str(out))[0] == 0
    before = (out / "guide.apkg").read_bytes()
    lock_before = (tmp_path / "guide.guidedeck.lock").read_bytes()
    guide.write_text(GOOD.replace("Explain why", "Explain precisely why"))

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("guidedeck.transaction.os.fsync", full)
    code, output = run("build", str(guide), "--out", str(out))
    assert code == 1
    assert re.search(r"guide\.apkg:1:1: error: cannot write: No space left on device", output)
    assert (out / "guide.apkg").read_bytes() == before
    assert (tmp_path / "guide.guidedeck.lock").read_bytes() == lock_before
    assert out_names(out) == ["guide.apkg"]  # no temporary file left


def test_bom_and_crlf_build_the_same_deck(tmp_path: Path) -> None:
    decks = []
    for name, text in (("clean", GOOD), ("dirty", "\ufeff" + GOOD.replace("\n", "\r\n"))):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "guide.md").write_bytes(text.encode("utf-8"))
        report = build([default_package(folder / "guide.md")], folder / "out", now=1_700_000_000)
        decks.append(report.packages[0].output.read_bytes())
        col = fresh_collection(folder / "anki")
        try:
            assert len(import_package(col, report.packages[0].output).new) == 5
        finally:
            col.close()
    assert decks[0] == decks[1]


def test_table_of_twenty_thousand_rows(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    rows = "".join(f"| key {n} | value {n} | note {n} |\n" for n in range(20_000))
    guide.write_text(f"# Big\n\n## Many Rows\n\n| Key | Value | Note |\n|---|---|---|\n{rows}")
    code, output = run("build", str(guide), "--out", str(tmp_path / "out"))
    assert code == 0, output
    assert re.search(r"guide\.md\s+0\s+20000\s+0\s+0\s+20000", output)
    col = fresh_collection(tmp_path / "anki")
    try:
        log = import_package(col, tmp_path / "out" / "guide.apkg")
        assert len(log.new) == 20_000 and len(log.conflicting) == 0
        cards = sorted(col.find_cards(""), key=lambda cid: col.get_card(cid).due)
        for cid in (cards[0], cards[10_000], cards[-1]):  # rendering all 20,000 adds nothing
            back = col.get_card(cid).render_output().answer_text
            assert "rows " in back and "of 20000" in back
            assert back.count("<tr") <= 26
    finally:
        col.close()


def test_unexpected_errors_become_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GOOD)

    def broken(*_args: object, **_options: object) -> None:
        raise ValueError("simulated bug")

    monkeypatch.setattr("guidedeck.prepare.render", broken)
    code, output = run("build", str(guide), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "internal error: ValueError('simulated bug')" in output
    assert "please report it" in output
