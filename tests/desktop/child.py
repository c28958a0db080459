"""Running a module of real-Anki cases in a child pytest, judged by its own report.

Qt may crash the process while it tears down after every case has passed (a known trait of Qt
WebEngine at exit), so the child's exit status says nothing: each case counts by what the report
says of it, and the parent checks that every case the module names is there. The report is
written phase by phase as the cases run (``tests/desktop/conftest.py``): pytest's JUnit report,
written when the session ends, is lost with such a crash. A case passed when its setup and its
call passed and its teardown did not fail; only the last case's teardown may be missing, and
only when the process died by a signal (the crash as Anki's session is torn down).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.desktop.conftest import LOG

CHILD = ROOT / "tests" / "desktop"


def run_child(module: str, folder: Path) -> dict[str, str | None]:
    """Each case of ``tests/desktop/<module>`` run headless: ``None`` if it passed, else what
    the report says. Anki's throw-away profile lands in ``folder``."""
    log = folder / "report.jsonl"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        # Chromium's sandbox cannot start as root, nor inside most CI containers
        "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",
        "TMPDIR": str(folder),
        LOG: str(log),
    }
    args = [sys.executable, "-m", "pytest", "-c", str(CHILD / "pytest.ini"), "--rootdir",
            str(ROOT), str(CHILD / module)]  # fmt: skip
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (done.stdout + done.stderr)[-4000:]
    assert log.is_file(), f"the child run wrote no report (exit {done.returncode}):\n{tail}"
    phases: dict[str, dict[str, tuple[str, str]]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        phases.setdefault(entry["name"], {})[entry["when"]] = (entry["outcome"], entry["longrepr"])
    last = list(phases)[-1] if phases else ""
    out: dict[str, str | None] = {}
    for name, seen in phases.items():
        problems = [f"{when}: {outcome}\n{text}" for when, (outcome, text) in seen.items()
                    if outcome != "passed"]  # fmt: skip
        missing = [w for w in ("setup", "call", "teardown") if w not in seen]
        if missing == ["teardown"] and name == last and done.returncode < 0:
            missing = []  # Qt's crash while Anki's session was torn down, after the last case
        problems += [f"{when}: never reported (exit {done.returncode})\n{tail}" for when in missing]
        out[name] = "\n".join(problems) or None
    return out
