"""Writing decks and lock files together: all of a build's files change, or none do.

A deck and its guide's lock file must agree (the lock caches the identities the deck carries).
Each file is first written in full to a temporary file beside its target (same folder, so the
final rename is atomic); only once every file of the build is on disk are they renamed into
place, with SIGINT and SIGTERM held back for those few renames. A journal listing the renames is
written first, so a build killed outright (SIGKILL, power loss) half-way through them is
finished by the next one (:func:`recover`): every deck/lock pair is then either the previous one
or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import json
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

from guidedeck.guides import read_bounded
from guidedeck.ownership import RECORD

JOURNAL = ".guidedeck-commit.json"
"""In the output folder while a build's files are being renamed into place."""
_HELD = {signal.SIGINT, signal.SIGTERM}


def temporary_name(target: Path) -> str:
    """The glob pattern of ``target``'s temporary files (``.aws.apkg.<random>.tmp``)."""
    return f".{glob.escape(target.name)}.*.tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_temporary(target: Path, data: bytes) -> Path:
    """``data`` written and flushed to disk in a new temporary file beside ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a deck is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (they are acted on when the block ends) while the block runs.

    Their handlers are swapped for one that only notes them. Masking them in this thread would
    not do: the kernel gives a process's signal to any thread that does not mask it (the worker
    pool's, Anki's engine's), and Python then runs the handler in the main thread at once. Only
    the main thread runs Python's handlers, so a block in another thread is never interrupted
    by them and needs nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def note(signum: int, _frame: object) -> None:
        caught.append(signum)

    previous = {held: signal.signal(held, note) for held in _HELD}
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


class Transaction:
    """Files staged for one build; :meth:`commit` renames them all into place."""

    def __init__(self, journal_dir: Path) -> None:
        self.journal = journal_dir / JOURNAL
        self.staged: dict[Path, Path] = {}
        """Target -> its temporary file."""
        self._leftovers: dict[Path, list[str]] = {}

    def clean(self, target: Path) -> None:
        """Remove temporary files of ``target`` left by a build killed before it committed."""
        pattern = temporary_name(target)
        for name in self._temporary_files(target.parent):
            stale = target.parent / name
            if fnmatch.fnmatchcase(name, pattern) and stale not in self.staged.values():
                stale.unlink(missing_ok=True)

    def _temporary_files(self, folder: Path) -> list[str]:
        """Names of the temporary files in ``folder`` when this build first looked there: one
        listing per folder, not a glob of it per file (a folder of 160 guides and their locks
        was listed 160 times). Those this build writes later are its own (staged)."""
        if folder not in self._leftovers:
            try:
                with os.scandir(folder) as entries:
                    names = [e.name for e in entries]
            except OSError:
                names = []
            self._leftovers[folder] = [n for n in names if n[:1] == "." and n.endswith(".tmp")]
        return self._leftovers[folder]

    def stage(self, target: Path, data: bytes) -> None:
        """Write ``data`` for ``target`` (raises OSError; then nothing is staged for it)."""
        self.clean(target)
        self.discard(target)
        # Ctrl-C or SIGTERM waits until the file is known as staged, so a rollback removes it
        # (a first build stages while it still prepares: a signal mid-write is no rarity)
        with signals_held():
            self.staged[target] = write_temporary(target, data)

    def discard(self, target: Path) -> None:
        """Forget ``target``'s staged file (its previous version stays)."""
        tmp = self.staged.pop(target, None)
        if tmp is not None:
            tmp.unlink(missing_ok=True)

    def commit(self) -> list[Path]:
        """Rename every staged file into place; return the targets, in order."""
        if not self.staged:
            return []
        # absolute: the next build may run from another working folder
        pairs = [
            [str(Path(tmp).absolute()), str(target.absolute())]
            for target, tmp in self.staged.items()
        ]
        with signals_held():
            if len(pairs) > 1:
                journal_tmp = write_temporary(self.journal, json.dumps(pairs).encode("utf-8"))
                journal_tmp.replace(self.journal)
            for tmp, target in pairs:
                Path(tmp).replace(target)
            self.journal.unlink(missing_ok=True)
        done = list(self.staged)
        self.staged.clear()
        return done

    def rollback(self) -> None:
        """Delete every staged file: the previous files stay as they were (a second Ctrl-C
        waits until they are gone)."""
        with signals_held():
            for target in list(self.staged):
                self.discard(target)


def recover(journal_dir: Path, locks: Collection[Path] = ()) -> list[Path]:
    """Finish the renames of a build killed while committing; return the files it completed.

    The journal is read as a claim, never as an order: a rename is finished only when its target
    is a deck (or the record of decks) in ``journal_dir`` or one of this build's lock files
    (``locks``), and its source is a temporary file of that target beside it (the names
    :func:`write_temporary` gives).
    Anything else it lists (a crafted journal, committed to a repository) is left alone.
    Without a journal there is nothing to finish: temporary files left by a build killed
    earlier were never committed and are removed when their target is next staged.
    """
    journal = journal_dir / JOURNAL
    for stale in journal_dir.glob(temporary_name(journal)):
        stale.unlink(missing_ok=True)
    try:
        pairs = json.loads(read_bounded(journal, MAX_JOURNAL_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        journal.unlink(missing_ok=True)
        return []
    allowed = {_normal(p) for p in locks}
    done = []
    with signals_held():
        for pair in pairs if isinstance(pairs, list) else []:
            if _finishable(pair, journal_dir, allowed):
                Path(pair[0]).replace(pair[1])
                done.append(Path(pair[1]))
        journal.unlink(missing_ok=True)
    return done


MAX_JOURNAL_BYTES = 1024 * 1024
"""The largest journal read (a line per file of a build: a few KB)."""


def _normal(path: Path | str) -> str:
    return os.path.normpath(Path(path).absolute())


def _finishable(pair: object, out_dir: Path, locks: set[str]) -> bool:
    """Whether ``pair`` is a rename this build may finish (see :func:`recover`)."""
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        return False
    tmp, target = (Path(p) for p in pair)
    if not (tmp.is_absolute() and target.is_absolute()) or tmp.parent != target.parent:
        return False
    in_out = _normal(target.parent) == _normal(out_dir)
    own_deck = in_out and (target.suffix == ".apkg" or target.name == RECORD)
    if not own_deck and _normal(target) not in locks:
        return False
    if not fnmatch.fnmatchcase(tmp.name, f".{target.name}.*.tmp") or target.is_symlink():
        return False
    try:
        return stat.S_ISREG(tmp.lstat().st_mode)
    except OSError:
        return False


__all__ = ["JOURNAL", "Transaction", "recover", "signals_held", "write_temporary"]
