"""``push`` and ``triage`` through AnkiConnect (issue #27): the real add-on inside the real Anki
desktop, one case per line of the report; and, without Anki, which way push takes.

``tests/desktop/connect_cases.py`` starts Anki desktop headless with the add-on from
``../shared/ankiconnect/plugin`` (skipped where that folder is absent) and runs guidedeck beside
it. As for the reviewer tests, the child run is judged by its JUnit report, never by its exit
status (Qt may crash the process at exit, after every case has passed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.conftest import ROOT
from tests.desktop.connect_cases import ADDON, CASES
from tests.test_push import HOLDER, Profile

CHILD = ROOT / "tests" / "desktop"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Each case of the child run: ``None`` if it passed, else what the report says."""
    if not (ADDON / "__init__.py").is_file():
        pytest.skip(f"the AnkiConnect add-on is not at {ADDON}")
    folder = tmp_path_factory.mktemp("connect")
    xml = folder / "report.xml"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox", "TMPDIR": str(folder)}  # fmt: skip
    args = [sys.executable, "-m", "pytest", "-c", str(CHILD / "pytest.ini"), "--rootdir",
            str(ROOT), str(CHILD / "connect_cases.py"), f"--junitxml={xml}"]  # fmt: skip
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
def test_through_anki_connect(report: dict[str, str | None], case: str) -> None:
    assert case in report, f"{case} did not run"
    assert report[case] is None, report[case]


# --- which way push takes, with no Anki running -------------------------------------------------


def _nobody_listens() -> str:
    """A URL on this machine where nothing answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def closed_anki(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Profile:
    """A learner's Anki folder with one profile, Anki closed, AnkiConnect tried where nothing
    listens (as on a machine where Anki is not running)."""
    profile = Profile(tmp_path)
    monkeypatch.setenv("ANKI_BASE", str(profile.collection.parent.parent))
    monkeypatch.setenv("GUIDEDECK_ANKI_CONNECT", _nobody_listens())
    return profile


def _push(profile: Profile, *extra: str) -> tuple[int, str]:
    args = ["push", str(profile.guide), "--out", str(profile.out), *extra]
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_with_anki_closed_push_uses_the_collection_file(closed_anki: Profile) -> None:
    code, output = _push(closed_anki)
    assert code == 0, output
    assert "pushed into profile 'User 1' in " in output
    assert len(closed_anki.notes()) > 5


def test_anki_running_without_the_add_on_is_one_clear_message(closed_anki: Profile) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(closed_anki.collection)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        code, output = _push(closed_anki)
    finally:
        holder.kill()
        holder.communicate()
    assert code == 1
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1, output
    assert "is in use" in lines[0] and "close Anki" in lines[0] and "AnkiConnect" in lines[0]


def test_no_profile_and_no_anki_connect_is_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _nobody_listens()
    monkeypatch.setenv("ANKI_BASE", str(tmp_path / "no-anki"))
    monkeypatch.setenv("GUIDEDECK_ANKI_CONNECT", url)
    guide = tmp_path / "networking.md"
    guide.write_text((ROOT / "tests/fixtures/updates/v1.md").read_text(encoding="utf-8"))
    result = CliRunner().invoke(main, ["push", str(guide), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert "no Anki profile found" in lines[0]
    assert f"Nor does AnkiConnect answer at {url}" in lines[0]
    assert not (tmp_path / "out").exists()


def test_an_anki_connect_url_that_does_not_answer_is_said_so(closed_anki: Profile) -> None:
    url = _nobody_listens()
    code, output = _push(closed_anki, "--anki-connect", url)
    assert code == 1
    assert f"AnkiConnect does not answer at {url}: start Anki with AnkiConnect" in output
    assert closed_anki.notes() == {}, "no fallback when the URL was asked for"


@pytest.mark.parametrize(
    ("url", "said"),
    [("ftp://127.0.0.1:8765", "give an http URL"),
     ("http://192.0.2.1:8765", "is another machine")],
)  # fmt: skip
def test_a_bad_anki_connect_url_is_refused(
    closed_anki: Profile, url: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guidedeck.push
    from guidedeck.anki_connect import AnkiConnect

    # a far host would time out here: stand in for an AnkiConnect that answers
    monkeypatch.setattr(guidedeck.push, "reach", lambda u, key=None: AnkiConnect(u, key))
    code, output = _push(closed_anki, "--anki-connect", url)
    assert code == 1 and said in output, output
    assert closed_anki.notes() == {}
