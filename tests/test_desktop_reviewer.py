"""The cards in the real Anki desktop reviewer (issue #26), one case per line of the report.

``tests/desktop/reviewer_cases.py`` starts Anki desktop (aqt, Qt WebEngine) headless, imports
guidedeck's decks and drives its reviewer with real clicks and keys. It runs in a child pytest:
Qt may crash the process while it tears down after the last case (a known trait of Qt WebEngine
at exit), so the child is judged by its own report (``tests/desktop/child.py``), never by its
exit status. Every case the
child module names must be in that report, and have passed.
"""

from __future__ import annotations

import pytest

from tests.desktop.child import run_child
from tests.desktop.reviewer_cases import CASES


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Each case of the child run: ``None`` if it passed, else what the report says."""
    return run_child("reviewer_cases.py", tmp_path_factory.mktemp("desktop"))


def test_the_child_ran_every_case_and_no_other(report: dict[str, str | None]) -> None:
    assert sorted(report) == sorted(CASES)


@pytest.mark.parametrize("case", CASES)
def test_in_anki_desktop(report: dict[str, str | None], case: str) -> None:
    assert case in report, f"{case} did not run"
    assert report[case] is None, report[case]
