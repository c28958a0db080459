"""Cases for the judge of child runs (``tests/test_child_judge.py``): the last one's module
fixture ends the process with SIGSEGV as it tears down, as Qt WebEngine sometimes does once every
case of a real Anki session has passed; one case fails on purpose."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def session() -> Iterator[str]:
    yield "anki"
    os.kill(os.getpid(), signal.SIGSEGV)  # the crash of a torn-down Qt session


def test_a_case_that_passes(session: str) -> None:
    assert session == "anki"


def test_a_case_that_fails(session: str) -> None:
    assert session == "not anki", "failed on purpose"


def test_the_last_case_passes(session: str) -> None:
    assert session
