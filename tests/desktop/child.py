"""Running a module of real-Anki cases in a child pytest, judged by its JUnit report.

Qt may crash the process while it tears down after every case has passed (a known trait of Qt
WebEngine at exit), so the child's exit status says nothing: each case counts by what the report
says of it, and the parent checks that every case the module names is there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import ROOT

CHILD = ROOT / "tests" / "desktop"


def run_child(module: str, folder: Path) -> dict[str, str | None]:
    """Each case of ``tests/desktop/<module>`` run headless: ``None`` if it passed, else what
    the report says. Anki's throw-away profile lands in ``folder``."""
    xml = folder / "report.xml"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        # Chromium's sandbox cannot start as root, nor inside most CI containers
        "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",
        "TMPDIR": str(folder),
    }
    args = [sys.executable, "-m", "pytest", "-c", str(CHILD / "pytest.ini"), "--rootdir",
            str(ROOT), str(CHILD / module), f"--junitxml={xml}"]  # fmt: skip
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
