"""``push`` and ``triage`` through AnkiConnect (issue #27): the real add-on inside the real Anki
desktop, one case per line of the report; and, without Anki, which way push takes.

``tests/desktop/connect_cases.py`` starts Anki desktop headless with the add-on from
``../shared/ankiconnect/plugin`` (skipped where that folder is absent) and runs guidedeck beside
it. As for the reviewer tests, the child run is judged by its own report
(``tests/desktop/child.py``), never by its exit status (Qt may crash the process at exit, after
every case has passed).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.conftest import ROOT
from tests.desktop.child import run_child
from tests.desktop.connect_cases import ADDON, CASES
from tests.test_push import HOLDER, Profile


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Each case of the child run: ``None`` if it passed, else what the report says."""
    if not (ADDON / "__init__.py").is_file():
        pytest.skip(f"the AnkiConnect add-on is not at {ADDON}")
    return run_child("connect_cases.py", tmp_path_factory.mktemp("connect"))


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


# --- whatever answers on the port is not trusted -------------------------------------------------


class _Impostor:
    """An HTTP server on this machine answering each action with a reply of its choosing."""

    def __init__(self, replies: dict[str, object]) -> None:
        import http.server
        import json
        import threading

        answers = replies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = answers.get(body["action"], {"result": None, "error": "unsupported"})
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _ok(value: object) -> dict[str, object]:
    return {"result": value, "error": None}


_VERSION = {"version": _ok(6)}
_NOT_ANKI_CONNECT = [
    ({"version": {"hello": "world"}}, "the answer is not AnkiConnect's"),
    ({"version": b"<html>not json</html>"}, "does not answer as AnkiConnect does"),
    ({"version": _ok(5)}, "speaks API version 5"),
]
_PUSH = [
    ({**_VERSION, "findNotes": _ok("everything")}, "ids that are not numbers"),
    (
        {**_VERSION, "findNotes": _ok([1]), "notesInfo": _ok({"1": "a note"})},
        "answered with something else than notes",
    ),
]
_TRIAGE = [
    (
        {
            **_VERSION,
            "findCards": _ok([1]),
            "multi": _ok([_ok([])] * 7),
            "cardsInfo": _ok([{"cardId": 1, "note": "not a number"}]),
        },
        "in another shape than its own",
    ),
]


@pytest.mark.parametrize(
    ("command", "replies", "said"),
    [(c, r, s) for c in ("push", "triage") for r, s in _NOT_ANKI_CONNECT]
    + [("push", r, s) for r, s in _PUSH] + [("triage", r, s) for r, s in _TRIAGE],
)  # fmt: skip
def test_an_answer_that_is_not_anki_connects_is_a_message(
    closed_anki: Profile, command: str, replies: dict[str, object], said: str
) -> None:
    impostor = _Impostor(replies)
    try:
        args = [command, str(closed_anki.guide), "--anki-connect", impostor.url]
        args += ["--out", str(closed_anki.out)] if command == "push" else []
        result = CliRunner().invoke(main, args)
    finally:
        impostor.close()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and said in result.output, result.output
    assert closed_anki.notes() == {}
    assert not closed_anki.out.exists() or not list(closed_anki.out.rglob("*")), "no deck written"


def test_a_reply_larger_than_the_bound_is_not_read(
    closed_anki: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guidedeck.anki_connect as connect

    monkeypatch.setattr(connect, "MAX_REPLY", 1000)
    impostor = _Impostor({"version": _ok("x" * 5000)})
    try:
        code, output = _push(closed_anki, "--anki-connect", impostor.url)
    finally:
        impostor.close()
    assert code == 1 and "more than 1000 bytes" in output, output
