"""``guidedeck serve`` driven in headless Chromium (issue #17): an edit shows without a manual
reload, a broken edit shows its problem and the fix clears it, the server outlives a broken
guide, and Ctrl-C ends it cleanly. The server runs as a user runs it: a child process."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.anki_engine import (
    assert_every_deck_imports,
    assert_healthy_import,
    fresh_collection,
    import_package,
)
from tests.conftest import FIXTURES, ROOT, copy_guides

SAMPLE = ROOT / "deck_source" / "backend-basics.md"
CELL = "Reference chains keeping objects alive"
BROKEN = '\n<InterviewQuiz question="Broken?" options={["a", "b"]} correctAnswer={7} />\n'
WAIT_MS = 10_000


class Serving:
    """A ``guidedeck serve`` child process, its terminal lines and its address."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "guidedeck", "serve", "--port", "0", *args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        found = self.wait_for(r"serving (http://127\.0\.0\.1:\d+/)")
        self.url = found.group(1)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """The first terminal line (from now on) matching ``pattern``."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r}; saw {self.seen[-20:]}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def stop(self) -> tuple[int, str]:
        """Ctrl-C; the exit code and the last terminal lines."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=20)
        self.reader.join(timeout=5)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "\n".join(self.seen)


@pytest.fixture
def guides(tmp_path: Path) -> Path:
    copy_guides(tmp_path / "guides", SAMPLE, FIXTURES / "parse" / "quick_check.md")
    return tmp_path / "guides"


@pytest.fixture
def serving(guides: Path, tmp_path: Path) -> Iterator[Serving]:
    server = Serving(str(guides), "--out", str(tmp_path / "out"))
    yield server
    code, output = server.stop()
    assert code == 0, output
    assert "Traceback" not in output


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A browser tab at phone size."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    yield page
    page.close()


def _deck_page(page: Any, serving: Serving, title: str) -> None:
    page.goto(serving.url)
    page.get_by_role("link", name=re.compile(title)).click()
    page.wait_for_load_state("load")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edit_shows_without_a_manual_reload(phone: Any, serving: Serving, guides: Path) -> None:
    requests: list[str] = []
    phone.on("request", lambda request: requests.append(request.url))
    _deck_page(phone, serving, "Backend")
    assert CELL in phone.inner_text("main")
    loads = len([r for r in requests if r.endswith(".html")])
    _edit(guides / "backend-basics.md", CELL, "Reference chains that keep objects alive")
    phone.wait_for_function(
        "() => document.body.innerText.includes('Reference chains that keep objects')",
        timeout=WAIT_MS,
    )
    assert CELL not in phone.inner_text("main")
    # the page reloaded itself (once), and asked nothing of any other host
    assert len([r for r in requests if r.endswith(".html")]) == loads + 1
    assert all(r.startswith(serving.url) for r in requests)
    serving.wait_for(r"rebuilt in .*1 guide\(s\) from the cache")


def test_a_broken_edit_shows_its_problem_and_the_fix_clears_it(
    phone: Any, serving: Serving, guides: Path
) -> None:
    guide = guides / "backend-basics.md"
    _deck_page(phone, serving, "Backend")
    assert phone.locator(".pv-problems").count() == 0
    original = guide.read_text(encoding="utf-8")
    guide.write_text(original + BROKEN, encoding="utf-8")
    problem = phone.locator(".pv-problems")
    problem.wait_for(timeout=WAIT_MS)
    said = r"backend-basics\.md:\d+:\d+: warning: correctAnswer=7"
    assert re.search(said, problem.inner_text())
    serving.wait_for(said)
    guide.write_text(original, encoding="utf-8")
    problem.wait_for(state="detached", timeout=WAIT_MS)
    assert CELL in phone.inner_text("main")


def test_an_unreadable_guide_never_stops_the_server(
    phone: Any, serving: Serving, guides: Path
) -> None:
    guide = guides / "quick_check.md"
    original = guide.read_bytes()
    phone.goto(serving.url)
    assert phone.get_by_role("link").count() == 2
    guide.write_bytes(original + b"\n\xff\xfe not UTF-8\n")
    phone.locator(".pv-problems").wait_for(timeout=WAIT_MS)
    assert "file is not UTF-8" in phone.inner_text(".pv-problems")
    assert phone.get_by_role("link").count() == 1  # the other guide's deck is still served
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(serving.url + "../../etc/passwd", timeout=5)
    assert missing.value.code == 404
    missing.value.close()
    guide.write_bytes(original)
    phone.locator(".pv-problems").wait_for(state="detached", timeout=WAIT_MS)
    assert phone.get_by_role("link").count() == 2


def test_build_writes_each_change_into_the_deck(guides: Path, tmp_path: Path) -> None:
    out = tmp_path / "decks"
    server = Serving(str(guides / "backend-basics.md"), "--out", str(out), "--build")
    try:
        # the first build comes before the server says where it serves
        assert any(re.search(r"rebuilt in .* 1 deck\(s\) written", ln) for ln in server.seen)
        first = (out / "backend-basics.apkg").read_bytes()
        _edit(guides / "backend-basics.md", CELL, "Reference chains that keep objects alive")
        server.wait_for(r"rebuilt in .* 1 deck\(s\) written")
    finally:
        code, output = server.stop()
    assert code == 0 and "stopped" in output and "Traceback" not in output, output
    deck = out / "backend-basics.apkg"
    assert deck.read_bytes() != first
    col = fresh_collection(tmp_path / "anki")
    try:
        assert_healthy_import(col, import_package(col, deck), 26)
        assert col.find_notes('"Reference chains that keep objects alive"')
    finally:
        col.close()


def test_ctrl_c_ends_it_cleanly(guides: Path, tmp_path: Path) -> None:
    server = Serving(str(guides), "--out", str(tmp_path / "out"))
    code, output = server.stop()
    assert code == 0
    assert output.splitlines()[-1] == "stopped"
    assert "Traceback" not in output


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_serve_build_prepares_each_changed_guide_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    """With ``--build``, the decks and the preview come from one prepare stage (issue #22: every
    changed guide was prepared twice, into two caches)."""
    import guidedeck.prepare
    from guidedeck.serve import Options, Server

    guides = copy_guides(tmp_path / "guides", SAMPLE, FIXTURES / "parse" / "tables.md")
    prepared: list[Path] = []
    real = guidedeck.prepare.prepare

    def counting(path: Path, *args: Any, **kwargs: Any) -> Any:
        prepared.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(guidedeck.prepare, "prepare", counting)
    options = Options((tmp_path / "guides",), tmp_path / "out", cached=cached, write_decks=True,
                      jobs=1)  # fmt: skip
    server = Server(options, lambda _line: None)
    site = server.rebuild()
    assert all(d.severity.value == "warning" for d in site.problems) and site.cards > 20
    assert sorted(prepared) == sorted(guides)  # each once, not once per cache
    assert {p.name for p in (tmp_path / "out").glob("*.apkg")} == {
        "backend-basics.apkg", "tables.apkg"
    }  # fmt: skip
    assert_every_deck_imports(sorted((tmp_path / "out").glob("*.apkg")), tmp_path / "anki", set())
    prepared.clear()
    guides[1].write_text(guides[1].read_text("utf-8") + "\nMore.\n", "utf-8")
    server.rebuild(guides[1:])
    assert prepared == ([guides[1]] if cached else sorted(guides))


def test_only_requests_for_this_host_are_answered(serving: Serving) -> None:
    """After DNS rebinding a web page reaches 127.0.0.1 under its own name: it reads nothing
    (issue #23)."""
    port = serving.url.rsplit(":", 1)[1].rstrip("/")
    for path in ("", "__guidedeck/tags"):
        request = urllib.request.Request(
            serving.url + path, headers={"Host": f"evil.example:{port}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        refused.value.close()
        assert refused.value.code == 421
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        request = urllib.request.Request(serving.url, headers={"Host": host})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200


def test_a_half_sent_request_is_dropped(serving: Serving) -> None:
    """A client that sends part of a request and waits holds no thread for long (#23)."""
    import socket

    port = int(serving.url.rsplit(":", 1)[1].rstrip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1")
        assert slow.recv(1024) == b""  # closed by the server (guard: 30 s; it takes about 5)


def test_a_client_gone_mid_answer_prints_no_traceback(serving: Serving) -> None:
    """Tabs close while pages load: the server says nothing of it (the fixture checks that no
    traceback was printed when it stops)."""
    import socket
    import struct
    import time

    port = int(serving.url.rsplit(":", 1)[1].rstrip("/"))
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as gone:
            gone.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            # closed with a reset, before the answer is read
            gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.5)
    with urllib.request.urlopen(serving.url, timeout=5) as answer:  # still serving
        assert answer.status == 200


def test_out_holding_the_guides_still_sees_their_edits(tmp_path: Path) -> None:
    """``serve --out .`` in the guides' folder: an edit to a guide is an edit, and only what
    guidedeck itself writes there is ignored (#23)."""
    from guidedeck.serve import Options, Server

    folder = tmp_path.resolve()
    server = Server(Options((folder,), folder, write_decks=True), lambda _line: None)
    assert server.relevant(folder / "guide.md")
    assert server.relevant(folder / "img" / "flow.png")
    for own in ("guide.guidedeck.lock", ".guidedeck-cache/guides/x.json", "guide.apkg",
                ".guide.md.abc.tmp", "preview/index.html"):  # fmt: skip
        assert not server.relevant(folder / own), own


def test_seven_open_tabs_all_load_and_all_follow_an_edit(
    browser: Any, serving: Serving, guides: Path
) -> None:
    """A browser opens at most 6 connections to one host: pages that each held one open (an
    event stream per tab) left a 7th tab blank. Every tab loads, and every tab shows an edit
    (#23)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        tabs = [context.new_page() for _ in range(8)]
        for tab in tabs:
            tab.set_default_timeout(WAIT_MS)
            _deck_page(tab, serving, "Backend")
            assert CELL in tab.inner_text("main")
        _edit(guides / "backend-basics.md", CELL, "Reference chains that keep objects alive")
        for tab in tabs:
            tab.wait_for_function(
                "() => document.body.innerText.includes('Reference chains that keep objects')"
            )
    finally:
        context.close()


def test_a_folder_removed_and_made_again_is_watched_again(phone: Any, tmp_path: Path) -> None:
    """``git checkout`` of another branch, or a script that writes the folder anew, removes the
    served folder and makes it again: its edits still show (#23)."""
    import shutil
    import time

    folder = tmp_path / "guides"
    copy_guides(folder, SAMPLE)
    server = Serving(str(folder), "--out", str(tmp_path / "out"))
    try:
        _deck_page(phone, server, "Backend")
        shutil.rmtree(folder)
        time.sleep(1.5)  # the server notices the folder is gone
        copy_guides(folder, SAMPLE)
        server.wait_for(r"rebuilt in .* 1 deck\(s\)")
        _deck_page(phone, server, "Backend")  # the page went to the index while it was gone
        _edit(folder / "backend-basics.md", CELL, "Reference chains that keep objects alive")
        phone.wait_for_function(
            "() => document.body.innerText.includes('Reference chains that keep objects')",
            timeout=WAIT_MS,
        )
    finally:
        code, output = server.stop()
    assert code == 0 and "Traceback" not in output, output


def test_connections_beyond_the_cap_are_closed_and_it_keeps_serving(serving: Serving) -> None:
    """Hundreds of connections opened and left idle hold no thread each: those over the cap
    are closed at once, the rest within the request timeout, and pages are served again
    (#23)."""
    import socket
    import time

    from guidedeck.serve import MAX_CONNECTIONS

    port = int(serving.url.rsplit(":", 1)[1].rstrip("/"))
    idle = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(200)]
    try:
        time.sleep(0.5)
        threads = int(_proc_status(serving.proc.pid)["Threads"])
        assert threads <= MAX_CONNECTIONS + 16, threads
        # the last ones came over the cap: closed at once, not kept
        assert all(_closed(sock) for sock in idle[-100:])
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.5)
    with urllib.request.urlopen(serving.url, timeout=10) as answer:
        assert answer.status == 200


def _closed(sock: Any) -> bool:
    sock.settimeout(2)
    try:
        return bool(sock.recv(1) == b"")
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def test_out_holding_the_guides_is_said(tmp_path: Path) -> None:
    """``serve --out .`` among the guides works, and says where its files go (#23)."""
    copy_guides(tmp_path, SAMPLE)
    server = Serving(str(tmp_path), "--out", str(tmp_path))  # waits for "serving ..."
    code, output = server.stop()
    assert code == 0 and "Traceback" not in output, output
    assert f"note: the output folder {tmp_path} holds guides being served" in output
