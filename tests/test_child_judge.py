"""The judge of the real-Anki child runs (``tests/desktop/child.py``): a crash of the process as
Anki's session is torn down, after the last case, loses no result; a failure is still one."""

from __future__ import annotations

import pytest

from tests.desktop.child import run_child


def test_a_crash_while_tearing_down_keeps_every_result(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    report = run_child("crash_cases.py", tmp_path_factory.mktemp("crash"))
    assert set(report) == {
        "test_a_case_that_passes", "test_a_case_that_fails", "test_the_last_case_passes"
    }  # fmt: skip
    assert report["test_a_case_that_passes"] is None
    assert report["test_the_last_case_passes"] is None
    failed = report["test_a_case_that_fails"]
    assert failed is not None and "failed on purpose" in failed
