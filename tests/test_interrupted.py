"""A build killed mid-write (SIGKILL, no cleanup possible) leaves the previous deck intact."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import assert_healthy_import, fresh_collection, import_package
from tests.conftest import FIXTURES, out_names

GOOD = (FIXTURES / "parse" / "scenarios.md").read_text(encoding="utf-8")

# Runs a real build in a child process and kills it (SIGKILL) at the chosen moment: half-way
# through writing the deck's temporary file, or after writing it but before the rename.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    mode, guide, out = sys.argv[1:4]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if mode == "mid-write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, handle):
                self.handle = handle
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return False
            def write(self, data):
                self.handle.write(data[: len(data) // 2])
                self.handle.flush()
                die()

        os.fdopen = lambda fd, mode, *rest: (
            HalfWriter(real_fdopen(fd, mode)) if "w" in mode else real_fdopen(fd, mode, *rest)
        )
    else:
        Path.replace = lambda self, target: die()

    from guidedeck.cli import main
    # no cache: the first file written is then the deck, where the kill is aimed
    main(["build", guide, "--out", out, "--no-cache"])
    """
)


@pytest.mark.parametrize("moment", ["mid-write", "before-rename"])
def test_killed_build_leaves_the_previous_deck(moment: str, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    out = tmp_path / "out"
    guide.write_text(GOOD, encoding="utf-8")
    first = CliRunner().invoke(main, ["build", str(guide), "--out", str(out)])
    assert first.exit_code == 0, first.output
    deck = out / "guide.apkg"
    lock = tmp_path / "guide.guidedeck.lock"
    deck_before, lock_before = deck.read_bytes(), lock.read_bytes()

    guide.write_text(GOOD.replace("Explain why", "Explain exactly why"), encoding="utf-8")
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, moment, str(guide), str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert deck.read_bytes() == deck_before
    assert lock.read_bytes() == lock_before
    # the dead temporary files (the deck's, maybe the lock's and the commit journal's)
    leftovers = [p for p in [*out.iterdir(), *tmp_path.iterdir()] if p.name.endswith(".tmp")]
    assert leftovers and all(p.name.startswith(".") for p in leftovers)
    assert not (out / ".guidedeck-commit.json").exists(), "killed before the journal was in place"

    again = CliRunner().invoke(main, ["build", str(guide), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert out_names(out) == ["guide.apkg"]  # the next build cleaned up
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    col = fresh_collection(tmp_path / "anki")
    try:
        assert_healthy_import(col, import_package(col, deck), 5)
        challenges = [col.get_note(n)["Challenge"] for n in col.find_notes('"Challenge:_*"')]
        assert any("Explain exactly why" in text for text in challenges)
    finally:
        col.close()
