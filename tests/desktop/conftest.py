"""The child runs' own report (see ``tests/desktop/child.py``): each phase of each case written
as it ends, flushed to disk, so that what ran is known even when Qt crashes the process while it
tears down (pytest's JUnit report is written only when the session ends)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

LOG = "GUIDEDECK_CHILD_LOG"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Append ``{name, when, outcome, longrepr}`` of each phase (setup, call, teardown)."""
    path = os.environ.get(LOG)
    if not path:
        return
    line = {
        "name": report.nodeid.rsplit("::", 1)[-1],
        "when": report.when,
        "outcome": report.outcome,
        "longrepr": str(report.longrepr) if report.outcome != "passed" else "",
    }
    with Path(path).open("a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")
        log.flush()
        os.fsync(log.fileno())
