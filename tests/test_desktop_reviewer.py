"""The cards in the real Anki desktop reviewer (issue #26), one case per line of the report.

``tests/desktop/reviewer_cases.py`` starts Anki desktop (aqt, Qt WebEngine) headless, imports
guidedeck's decks and drives its reviewer with real clicks and keys. It runs in a child pytest:
Qt may crash the process while it tears down after the last case (a known trait of Qt WebEngine
at exit), so the child is judged by its JUnit report, never by its exit status. Every case the
child module names must be in that report, and have passed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ROOT
from tests.desktop.reviewer_cases import CASES

CHILD = ROOT / "tests" / "desktop"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Each case of the child run: ``None`` if it passed, else what the report says."""
    folder = tmp_path_factory.mktemp("desktop")
    xml = folder / "report.xml"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        # Chromium's sandbox cannot start as root, nor inside most CI containers
        "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",
        "TMPDIR": str(folder),  # Anki's throw-away profile lands here
    }
    args = [sys.executable, "-m", "pytest", "-c", str(CHILD / "pytest.ini"), "--rootdir",
            str(ROOT), str(CHILD / "reviewer_cases.py"), f"--junitxml={xml}"]  # fmt: skip
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (done.stdout + done.stderr)[-4000:]
    assert xml.is_file(), f"the child run wrote no report (exit {done.returncode}):\n{tail}"
    out: dict[str, str | None] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        problems = [el for el in case if el.tag in ("failure", "error", "skipped")]
        out[case.get("name", "")] = (
            None
            if not problems
            else "\n".join(f"{p.tag}: {p.get('message')}\n{p.text or ''}" for p in problems)
        )
    return out


def test_the_child_ran_every_case_and_no_other(report: dict[str, str | None]) -> None:
    assert sorted(report) == sorted(CASES)


@pytest.mark.parametrize("case", CASES)
def test_in_anki_desktop(report: dict[str, str | None], case: str) -> None:
    assert case in report, f"{case} did not run"
    assert report[case] is None, report[case]
