"""Builds killed at random moments (SIGKILL or SIGINT) never leave a deck and its lock at odds.

After SIGINT the pairs are whole at once and nothing temporary is left. After SIGKILL (nothing
can run) a pair may wait for the next command to finish the journal; once it has run, every pair
agrees again, and the next build leaves nothing temporary behind.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.pairs import leftovers, pair_problems

sys.path.insert(0, str(ROOT / "benchmarks"))
from mass_edit import mass_guide

GUIDES = 8


def guidedeck(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "guidedeck", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finished(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guidedeck", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def write_guides(folder: Path, version: int) -> None:
    for n in range(GUIDES):
        text = mass_guide(version % 2 == 1, rows=150, quizzes=30)
        (folder / f"g{n}.md").write_text(text.replace("Mass Edit Guide", f"Guide {n} v{version}"))


def all_pairs_agree(guides: Path, out: Path) -> list[str]:
    problems = []
    for n in range(GUIDES):
        deck = out / f"g{n}.apkg"
        if deck.exists():
            problems += [f"g{n}: {p}" for p in pair_problems(guides / f"g{n}.md", deck)]
    return problems


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    delay=st.floats(min_value=0.0, max_value=2.0),
    sig=st.sampled_from([signal.SIGKILL, signal.SIGINT]),
)
def test_killed_builds_leave_whole_pairs(tmp_path: Path, delay: float, sig: int) -> None:
    run = tmp_path / f"run-{time.monotonic_ns()}"
    guides, out = run / "guides", run / "out"
    guides.mkdir(parents=True)
    write_guides(guides, 0)
    first = finished("build", str(guides), "--out", str(out), "-j", "1")
    assert first.returncode == 0, first.stderr
    write_guides(guides, 1)  # every card of every guide changes: every file is rewritten

    proc = guidedeck("build", str(guides), "--out", str(out), "-j", "1")
    time.sleep(delay)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr
    # -SIGINT: the signal came before Python could install its handler (nothing had started)
    assert proc.returncode in (0, 130, -signal.SIGINT, -signal.SIGKILL), stderr
    if sig == signal.SIGINT or proc.returncode == 0:
        assert not all_pairs_agree(guides, out)
        assert not leftovers(out, guides)
        return
    # killed outright: the next command finishes whatever the journal lists
    finished("check", str(guides), "--out", str(out))
    assert not all_pairs_agree(guides, out)
    again = finished("build", str(guides), "--out", str(out), "-j", "1")
    assert again.returncode == 0, again.stderr
    assert not all_pairs_agree(guides, out)
    assert not leftovers(out, guides)
