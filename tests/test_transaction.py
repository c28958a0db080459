"""A commit interrupted after its journal is written is finished by the next build, from any
working folder (issue #22: the journal held relative paths)."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from guidedeck import transaction
from guidedeck.transaction import JOURNAL, Transaction, recover


class Killed(BaseException):
    """Stands for SIGKILL between the journal and the renames."""


def _interrupted_commit(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stage a deck and a lock under the relative ``out``, then die right after the journal."""
    txn = Transaction(out)
    txn.stage(out / "guide.apkg", b"new deck")
    txn.stage(Path("guide.guidedeck.lock"), b"new lock")
    real = Path.replace
    calls = []

    def replace(self: Path, target: str | Path) -> Path:
        calls.append(self)
        if len(calls) > 1:  # the journal is in place; the first rename never happens
            raise Killed
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(Killed):
        txn.commit()
    monkeypatch.undo()


def test_recover_from_another_working_folder_finishes_the_right_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "out").mkdir(parents=True)
    elsewhere.mkdir()
    (project / "out" / "guide.apkg").write_bytes(b"old deck")
    (project / "guide.guidedeck.lock").write_bytes(b"old lock")
    monkeypatch.chdir(project)
    _interrupted_commit(Path("out"), monkeypatch)
    journal = json.loads((project / "out" / JOURNAL).read_text(encoding="utf-8"))
    assert all(Path(p).is_absolute() for pair in journal for p in pair)

    monkeypatch.chdir(elsewhere)  # the next build runs from another folder
    done = recover(project / "out", [project / "guide.guidedeck.lock"])
    assert sorted(done) == sorted(
        [project / "out" / "guide.apkg", project / "guide.guidedeck.lock"]
    )
    assert (project / "out" / "guide.apkg").read_bytes() == b"new deck"
    assert (project / "guide.guidedeck.lock").read_bytes() == b"new lock"
    assert not (project / "out" / JOURNAL).exists()
    assert list(elsewhere.iterdir()) == []  # nothing moved into the wrong folder
    leftovers = [p.name for p in project.rglob("*.tmp")]
    assert leftovers == []


def test_ctrl_c_as_a_file_is_staged_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signal lands once the temporary file is written, before it is known as staged: the
    rollback must still find it (a leftover would wait for the next build to remove it)."""
    real = transaction.write_temporary
    # another thread is alive, as the worker pool's are while a first build stages, and the
    # kernel hands it the signal (any thread that does not mask it may get it): Python then
    # runs the handler in the main thread at once
    idle = threading.Event()
    other = threading.Thread(target=idle.wait)
    other.start()

    def interrupted(target: Path, data: bytes) -> Path:
        written = real(target, data)
        assert other.ident is not None
        signal.pthread_kill(other.ident, signal.SIGINT)
        time.sleep(0.2)  # that thread takes it, and Python has the main thread act on it
        return written

    monkeypatch.setattr(transaction, "write_temporary", interrupted)
    txn = Transaction(tmp_path)
    try:
        with pytest.raises(KeyboardInterrupt):
            try:
                txn.stage(tmp_path / "guide.apkg", b"new deck")
            finally:
                txn.rollback()
    finally:
        idle.set()
        other.join()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
