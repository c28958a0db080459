"""Shared test helpers: fixture locations and the shared real-world corpus."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI must be reproducible: the same examples every run (a failure prints the example and a blob
# to replay it). On a developer's machine hypothesis keeps exploring new inputs.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
ROOT = TESTS.parent
CORPUS = Path(os.environ.get("GUIDEDECK_CORPUS", ROOT.parent / "shared" / "corpus"))
UPDATE = os.environ.get("GUIDEDECK_UPDATE_GOLDEN") == "1"
"""Set to 1 to rewrite expected files from current output (then review the diff!)."""


def corpus_guides() -> list[Path]:
    """The shared corpus guides (README.md excluded), or [] when the folder is absent."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.glob("*.md") if p.name != "README.md")


def out_names(folder: Path) -> list[str]:
    """Names in an output folder besides the build cache (in which no temporary file is left)
    and the record of its decks (which names only decks that are there, by their digest)."""
    from guidedeck.cache import CACHE_DIR
    from guidedeck.ownership import RECORD, digest, read_record

    assert not list((folder / CACHE_DIR).rglob("*.tmp")), "a cache write left a temporary file"
    names = sorted(p.name for p in folder.iterdir() if p.name not in (CACHE_DIR, RECORD))
    for name, recorded in (read_record(folder).decks or {}).items():
        assert recorded == digest((folder / name).read_bytes()), f"{name} is not as recorded"
    return names


def copy_guides(folder: Path, *guides: Path) -> list[Path]:
    """Copies of ``guides`` in ``folder``: builds write a lock file beside the guides they read."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for guide in guides:
        target = folder / guide.name
        shutil.copyfile(guide, target)
        copies.append(target)
    return copies


@pytest.fixture
def corpus() -> list[Path]:
    """The corpus guides; skips the test where ../shared/corpus is absent."""
    guides = corpus_guides()
    if not guides:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return guides


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _unavailable(what: str) -> None:
    message = f"{what} is not installed (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium; never a browser downloaded by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright")
    if not Path(CHROMIUM).exists():
        _unavailable("chromium")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield instance
        instance.close()


@pytest.fixture(autouse=True)
def _no_running_anki(monkeypatch: pytest.MonkeyPatch) -> None:
    """``push`` and ``triage`` try AnkiConnect at 127.0.0.1:8765 first: a developer's own Anki,
    open while the tests run, must never be reached. Tests of that way name their own URL."""
    from guidedeck.anki_connect import ENV_URL, OFF

    monkeypatch.setenv(ENV_URL, OFF)


@pytest.fixture(scope="session", autouse=True)
def _fixtures_stay_as_committed() -> Iterator[None]:
    """A build writes a lock file beside its guide: a test that builds a fixture in place would
    leave one in the repository (and the next run would read it). Tests build copies."""
    from guidedeck.lockfile import LOCK_SUFFIX

    before = set(FIXTURES.rglob(f"*{LOCK_SUFFIX}"))
    yield
    written = set(FIXTURES.rglob(f"*{LOCK_SUFFIX}")) - before
    assert not written, f"a test wrote lock files into the fixtures: {sorted(written)}"
