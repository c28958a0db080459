"""Issue #13: ordinary-but-unlucky and hostile inputs, one test per case. Each asserts the exit
code, the message, and that no deck or lock is wrong and no temporary file is left."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from guidedeck.lockfile import LOCK_SUFFIX
from tests.anki_engine import (
    assert_healthy_import,
    fresh_collection,
    import_package,
    visible_text,
)
from tests.conftest import FIXTURES, ROOT, out_names
from tests.pairs import leftovers, pair_problems
from tests.test_decks import card_count

GOOD = (FIXTURES / "parse" / "scenarios.md").read_text(encoding="utf-8")
TABLES = (FIXTURES / "parse" / "tables.md").read_text(encoding="utf-8")
sys.path.insert(0, str(ROOT / "benchmarks"))
from mass_edit import mass_guide  # noqa: E402


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def assert_imports(deck: Path, notes: int, folder: Path) -> None:
    """The deck goes through the real Anki engine: imported, every card rendered and checked."""
    col = fresh_collection(folder)
    try:
        assert_healthy_import(col, import_package(col, deck), notes)
    finally:
        col.close()


def child(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """guidedeck in a process of its own (for signals, devices and real exit codes)."""
    return subprocess.run(
        [sys.executable, "-m", "guidedeck", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


# --- 1. colliding output and lock names -----------------------------------------------------------


def test_guides_sharing_a_file_name_get_their_own_decks(tmp_path: Path) -> None:
    for lang in ("en", "de"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "guide.md").write_text(GOOD.replace("Scenario Variants", lang))
    out = tmp_path / "out"
    code, output = run("build", str(tmp_path / "en"), str(tmp_path / "de"), "--out", str(out))
    assert code == 0, output
    assert out_names(out) == ["de-guide.apkg", "en-guide.apkg"]
    for lang in ("en", "de"):
        deck = out / f"{lang}-guide.apkg"
        assert not pair_problems(tmp_path / lang / "guide.md", deck)
        col = fresh_collection(tmp_path / f"anki-{lang}")
        try:
            cards = assert_healthy_import(col, import_package(col, deck), 5)
            assert all(lang in visible_text(c.question) for c in cards)
        finally:
            col.close()


def test_md_and_mdx_of_one_name_keep_apart(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD)
    (tmp_path / "a.mdx").write_text(TABLES)
    out = tmp_path / "out"
    code, output = run("build", str(tmp_path), "--out", str(out))
    assert code == 0, output
    assert out_names(out) == ["a-md.apkg", "a-mdx.apkg"]
    assert (tmp_path / f"a{LOCK_SUFFIX}").is_file()
    assert (tmp_path / f"a.mdx{LOCK_SUFFIX}").is_file()
    for name, source in (("a-md.apkg", "a.md"), ("a-mdx.apkg", "a.mdx")):
        assert_imports(out / name, card_count(tmp_path / source), tmp_path / name)
    again_code, again = run("build", str(tmp_path), "--out", str(out))
    assert again_code == 0 and "added" in again
    assert re.search(r"a\.md\s+.*\s0\s+0\s+5\s+0\s", again), again  # 5 unchanged, 0 added


def test_two_packages_writing_one_file_are_refused_naming_both(tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text(GOOD)
    (tmp_path / "two.md").write_text(TABLES)
    (tmp_path / "decks.yaml").write_text(
        "packages:\n  - guides: [one.md]\n    output: same.apkg\n"
        "  - guides: [two.md]\n    output: same.apkg\n"
    )
    code, output = run("build", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "two packages write 'same.apkg'" in output
    assert not (tmp_path / "out").exists()


# --- 2. deck and lock are one transaction ---------------------------------------------------------


def _built(tmp_path: Path) -> tuple[Path, Path, bytes, bytes]:
    guide = tmp_path / "guide.md"
    guide.write_text(GOOD)
    out = tmp_path / "out"
    assert run("build", str(guide), "--out", str(out))[0] == 0
    deck, lock = out / "guide.apkg", tmp_path / f"guide{LOCK_SUFFIX}"
    guide.write_text(GOOD.replace("Explain why", "Explain exactly why"))
    return deck, lock, deck.read_bytes(), lock.read_bytes()


def test_a_lock_that_cannot_be_written_keeps_the_deck_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck, lock, deck_before, lock_before = _built(tmp_path)
    from guidedeck import transaction

    real = transaction.write_temporary

    def refuse_locks(target: Path, data: bytes) -> Path:
        if target.name.endswith(LOCK_SUFFIX):
            raise OSError(30, "Read-only file system")
        return real(target, data)

    monkeypatch.setattr(transaction, "write_temporary", refuse_locks)
    code, output = run("build", str(tmp_path / "guide.md"), "--out", str(deck.parent))
    assert code == 1
    assert f"{lock}:1:1: error: cannot write: Read-only file system" in output
    assert "0 of 1 package(s) written" in output
    assert deck.read_bytes() == deck_before and lock.read_bytes() == lock_before
    assert not leftovers(deck.parent, tmp_path)


def test_a_guide_name_too_long_for_a_lock_file_gets_a_hashed_one(tmp_path: Path) -> None:
    guide = tmp_path / ("a-very-long-guide-name-" * 10 + ".md")  # 231 characters
    guide.write_text(GOOD)
    out = tmp_path / "out"
    code, output = run("build", str(guide), "--out", str(out))
    assert code == 0, output
    (lock,) = tmp_path.glob(f"*{LOCK_SUFFIX}")
    (deck,) = out.glob("*.apkg")
    assert len(lock.name.encode()) < 255
    assert re.search(r"-[0-9a-f]{10}\.guidedeck\.lock$", lock.name)
    assert len(deck.name.encode()) < 255
    assert_imports(deck, card_count(guide), tmp_path / "anki")
    code, output = run("build", str(guide), "--out", str(out))
    assert code == 0 and re.search(r"\s0\s+0\s+5\s+0\s+0\s+\S+\.apkg", output), output
    code, output = run("preview", str(guide), "--out", str(tmp_path / "preview"))
    assert code == 0, output
    assert (tmp_path / "preview" / "index.html").is_file()


SIGNAL_AT_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    real = Path.replace
    def replace(self, target):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between the deck and its lock
        return real(self, target)
    Path.replace = replace
    from guidedeck.cli import main
    main(sys.argv[1:])
    """
)


def test_ctrl_c_between_the_two_renames_waits_for_the_pair(tmp_path: Path) -> None:
    deck, _lock, deck_before, _ = _built(tmp_path)
    done = subprocess.run(
        # no cache: the first rename is then the deck's, where the Ctrl-C is aimed
        [sys.executable, "-c", SIGNAL_AT_COMMIT, "build", str(tmp_path / "guide.md"),
         "--out", str(deck.parent), "--no-cache"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("interrupted:")
    assert deck.read_bytes() != deck_before, "the pair was committed whole"
    assert not pair_problems(tmp_path / "guide.md", deck)
    assert not leftovers(deck.parent, tmp_path)


# --- 3. bad values inside a lock ------------------------------------------------------------------

BAD_VALUES = {
    "mtime as text": ("mtime", "soon"),
    "corrupted GUID": ("guid", "a b\u0001c"),
    "unknown kind": ("kind", "poem"),
    "note id as text": ("nid", "1700000000000"),
    "note id in 2100": ("nid", 4_102_444_800_000),
    "mtime in 2100": ("mtime", 4_102_444_800),
}


@pytest.mark.parametrize("case", BAD_VALUES, ids=list(BAD_VALUES))
def test_a_bad_value_in_a_lock_names_file_line_and_note(case: str, tmp_path: Path) -> None:
    deck, lock, deck_before, _ = _built(tmp_path)
    lines = lock.read_text().splitlines()
    record = json.loads(lines[2])
    name, value = BAD_VALUES[case]
    record[name] = value
    lines[2] = json.dumps(record)
    lock.write_text("\n".join(lines) + "\n")
    lock_before = lock.read_bytes()
    for command in ("check", "build"):
        code, output = run(command, str(tmp_path / "guide.md"), "--out", str(deck.parent))
        assert code == 1, (command, output)
        assert f"{lock}:3:1: error: line 3 (ID {record['id']!r}): {name!r}" in output, output
        assert "internal error" not in output
    assert deck.read_bytes() == deck_before and lock.read_bytes() == lock_before
    assert not leftovers(deck.parent, tmp_path)


# --- 4. a guide listed twice; 5. a package that is not written ------------------------------------


def test_a_guide_listed_twice_in_a_package_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "docker.md").write_text(GOOD)
    (tmp_path / "decks.yaml").write_text("packages:\n  - guides: [docker.md, docker.md]\n")
    for command in ("check", "build"):
        code, output = run(command, str(tmp_path), "--out", str(tmp_path / "out"))
        assert code == 1
        assert f"{tmp_path / 'decks.yaml'}:2:25: error: guide 'docker.md' is listed twice" in output
    assert not (tmp_path / "out").exists()


def test_a_package_of_an_empty_guide_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text(GOOD)
    out = tmp_path / "out"
    assert run("build", str(tmp_path / "guide.md"), "--out", str(out))[0] == 0
    before = (out / "guide.apkg").read_bytes()
    (tmp_path / "guide.md").write_text("")
    code, output = run("build", str(tmp_path / "guide.md"), "--out", str(out))
    assert code == 1
    assert "warning: guide is empty" in output and "guide.apkg not written" in output
    assert (out / "guide.apkg").read_bytes() == before


# --- 6. half characters ---------------------------------------------------------------------------

SURROGATE = (
    '# Half\n\n<InterviewQuiz question={"Broken \\uDFFF text"} options={["a", "b"]} '
    'correctAnswer={0} explanation="x" />\n\n'
    '<InterviewQuiz question={"Fine \\uD83D\\uDE00"} options={["a", "b"]} correctAnswer={1} '
    'explanation="y" />\n'
)


def test_a_lone_surrogate_is_a_located_warning_everywhere(tmp_path: Path) -> None:
    (tmp_path / "half.md").write_text(SURROGATE)
    (tmp_path / "other.md").write_text(GOOD)
    warning = f"{tmp_path / 'half.md'}:3:1: warning: this card holds half of a character"
    for command in ("check", "list", "build", "preview"):
        extra = [] if command == "list" else ["--out", str(tmp_path / command)]
        code, output = run(command, str(tmp_path), *extra)
        assert code == 0, (command, output)
        assert warning in output, command
    col = fresh_collection(tmp_path / "anki")
    try:
        cards = assert_healthy_import(col, import_package(col, tmp_path / "build/half.apkg"), 1)
        assert "Fine \U0001f600" in visible_text(cards[0].question)
    finally:
        col.close()
    assert (tmp_path / "build" / "other.apkg").is_file()


# --- 7. not regular files -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/urandom"])
def test_what_is_not_a_regular_file_is_refused_at_once(kind: str, tmp_path: Path) -> None:
    if kind == "fifo":
        target = tmp_path / "pipe.md"
        os.mkfifo(target)
    else:
        target = tmp_path / "device.md"
        target.symlink_to(kind)
    started = time.monotonic()
    for command in ("check", "build"):
        done = child(command, str(target), "--out", str(tmp_path / "out"), timeout=30)
        assert done.returncode == 1, done.stderr
        assert f"{target}:1:1: error: not a regular file" in done.stderr
    assert time.monotonic() - started < 30  # refused, not read: a hang would hit the timeout
    assert not (tmp_path / "out").exists()


# --- 8. mass edits keep every note ----------------------------------------------------------------


def test_a_mass_edit_lands_on_every_known_note(tmp_path: Path) -> None:
    guide = tmp_path / "mass.md"
    guide.write_text(mass_guide(False, rows=600, quizzes=600))
    out = tmp_path / "out"
    assert run("build", str(guide), "--out", str(out))[0] == 0
    from guidedeck.memory import read_deck

    def identities() -> dict[str, str]:
        # a card's own number (the row's service, the quiz's service) names it across the edit
        out_notes = {}
        for note in read_deck(out / "mass.apkg"):
            text = note.fields.get("Subject") or note.fields.get("Question", "")
            number = re.search(r"service[- ](\d+)", visible_text(text))
            assert number is not None
            out_notes[f"{note.kind.value}:{number.group(1)}"] = note.guid
        return out_notes

    before = identities()
    guide.write_text(mass_guide(True, rows=600, quizzes=600))
    code, output = run("build", str(guide), "--out", str(out))
    assert code == 0, output
    assert re.search(r"mass\.md\s+600\s+600\s+0\s+0\s+0\s+1200\s+0\s+0", output), output
    assert identities() == before, "every edited card kept its own note"
    assert_imports(out / "mass.apkg", card_count(guide), tmp_path / "anki")


# --- 9. Anki markup -------------------------------------------------------------------------------

MARKUP = (
    "# Markup\n\n| Written | Means |\n|---|---|\n| [sound:bell.mp3] | audio |\n"
    "| [latex]x^2[/latex] | maths |\n| [$]y[/$] and [$$]z[/$$] | inline maths |\n"
)


def test_anki_markup_in_a_guide_is_shown_as_text(tmp_path: Path) -> None:
    (tmp_path / "markup.md").write_text(MARKUP)
    code, output = run("build", str(tmp_path / "markup.md"), "--out", str(tmp_path / "out"))
    assert code == 0, output
    col = fresh_collection(tmp_path / "anki")
    try:
        # the preview equals Anki's render of every card (assert_healthy_import checks it)
        cards = assert_healthy_import(col, import_package(col, tmp_path / "out/markup.apkg"), 3)
        shown = " ".join(visible_text(c.question) + visible_text(c.answer) for c in cards)
        for text in ("[sound:bell.mp3]", "[latex]x^2[/latex]", "[$]y[/$]", "[$$]z[/$$]"):
            assert text in shown
        for card in cards:
            assert "[anki:play" not in card.question + card.answer
            assert "<img" not in card.question + card.answer
        # the same text unescaped is what Anki would act on
        note = col.new_note(col.models.by_name("guidedeck Fact"))
        note["ID"], note["Subject"] = "control", "[sound:bell.mp3]"
        col.add_note(note, col.decks.id("control"))
        control = col.get_card(note.cards()[0].id).render_output()
        assert "[anki:play" in control.question_text
    finally:
        col.close()


# --- 10/11. long names and empty deck-name parts --------------------------------------------------


@pytest.mark.parametrize(
    ("deck", "column"),
    [("Interview::::Go", 11), ("::Go", 11), ("Interview:: ::Go", 11)],
)
def test_empty_deck_name_parts_are_refused_with_their_line(
    deck: str, column: int, tmp_path: Path
) -> None:
    (tmp_path / "go.md").write_text(GOOD)
    (tmp_path / "decks.yaml").write_text(f'packages:\n  - guides: [go.md]\n    deck: "{deck}"\n')
    code, output = run("build", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 1
    assert f"decks.yaml:3:{column}: error: deck name" in output and "empty part" in output
    assert not (tmp_path / "out").exists()


def test_a_long_title_builds_and_previews(tmp_path: Path) -> None:
    title = "A Very Long Guide Title " * 12  # 288 characters
    (tmp_path / "long.md").write_text(GOOD.replace("# Scenario Variants", f"# {title}"))
    code, output = run("build", str(tmp_path / "long.md"), "--out", str(tmp_path / "out"))
    assert code == 0, output
    code, output = run("preview", str(tmp_path / "long.md"), "--out", str(tmp_path / "pv"))
    assert code == 0, output
    pages = [p.name for p in (tmp_path / "pv").iterdir()]
    assert "index.html" in pages and all(len(p.encode()) < 100 for p in pages)


# --- 12. signals during a multi-guide build -------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_build_ends_cleanly(sig: signal.Signals, code: int, tmp_path: Path) -> None:
    guides = tmp_path / "guides"
    guides.mkdir()
    for n in range(60):  # about 5 s of work on 2 cores: the signal lands mid-build
        (guides / f"g{n}.md").write_text(mass_guide(False, rows=300, quizzes=60))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "guidedeck", "build", str(guides), "--out", str(out), "-j", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.5)  # well into reading and rendering the guides
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.match(r"(interrupted|terminated): ", lines[0]), stderr
    assert not leftovers(out, guides)
    for deck in out.glob("*.apkg") if out.is_dir() else []:
        assert not pair_problems(guides / (deck.stem + ".md"), deck)


# --- 13. --jobs is capped -------------------------------------------------------------------------


def test_jobs_beyond_the_cores_are_capped(tmp_path: Path) -> None:
    from guidedeck.prepare import available_cores

    (tmp_path / "a.md").write_text(GOOD)
    (tmp_path / "b.md").write_text(TABLES)
    code, output = run("build", str(tmp_path), "--out", str(tmp_path / "out"), "-j", "64")
    assert code == 0, output
    cores = available_cores()
    assert f"--jobs 64: only {cores} core(s) here; using {cores}" in output


# --- 14. check is a gate for build ----------------------------------------------------------------


def test_check_and_build_choose_the_same_inputs(tmp_path: Path) -> None:
    (tmp_path / "listed.md").write_text(GOOD)
    (tmp_path / "draft.md").write_text("# Draft\n\nnot ready\n")
    (tmp_path / "decks.yaml").write_text("packages:\n  - guides: [listed.md, missing.md]\n")
    results = {}
    for command in ("check", "list", "build", "preview"):
        extra = [] if command == "list" else ["--out", str(tmp_path / command)]
        results[command] = run(command, str(tmp_path), *extra)
    for command, (code, output) in results.items():
        assert code == 1, command
        assert "decks.yaml:2:25: error: guide 'missing.md' not found beside decks.yaml" in output
        assert "draft" not in output, command
    # and where check --strict passes, build --strict writes every package
    (tmp_path / "decks.yaml").write_text("packages:\n  - guides: [listed.md]\n")
    assert run("check", "--strict", str(tmp_path), "--out", str(tmp_path / "o"))[0] == 0
    code, output = run("build", "--strict", str(tmp_path), "--out", str(tmp_path / "o"))
    assert code == 0 and "1 of 1 package(s) written" in output


STUCK = """
import sys, time
import guidedeck.entry as entry
import guidedeck.prepare as prepare
entry.GRACE = 1.0
def stuck(*args, **kwargs):
    try:
        time.sleep(3600)
    finally:
        time.sleep(3600)  # an unwinding that never ends (a pool's lock, say)
prepare.prepare = stuck
sys.argv = ["guidedeck", *sys.argv[1:]]
entry.run()
"""


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_command_ends_even_if_its_unwinding_hangs(
    sig: signal.Signals, code: int, tmp_path: Path
) -> None:
    """A signal raised inside a worker pool's locks once left a terminated build waiting
    forever: past its grace period the command ends anyway, with its one line."""
    (tmp_path / "guide.md").write_text(GOOD)
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK, "build", str(tmp_path / "guide.md"), "--out",
         str(tmp_path / "out"), "-j", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.5)
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.match(r"(interrupted|terminated): ", lines[0]), stderr
