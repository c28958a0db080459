"""A backup of the user's collection, taken before anything opens it for writing.

Anki's engine upgrades an older collection's schema as it opens it, so a backup made through
the engine (``create_backup``) is already a copy of the upgraded file. Here the collection is
copied by SQLite's online backup, read-only (the pages as they are, its write-ahead log
included), into a package Anki's File > Switch Profile > Open Backup restores: a ``.colpkg``
holding ``collection.anki2`` and an empty media list (guidedeck's notes carry no media the
collection does not already hold; Anki's own backups leave media out too).

The copy is kept, in the profile's ``backups`` folder, only when the push changes something.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import zipfile
from pathlib import Path

PREFIX = "guidedeck-backup-"
KEEP = 10
"""guidedeck's own backups kept per profile (older ones are removed; Anki's are not touched)."""


class Backup:
    """The collection as it is now, aside in a temporary file until :meth:`keep`."""

    def __init__(self, collection: Path) -> None:
        self.folder = collection.parent / "backups"
        stamp = time.strftime("%Y-%m-%d-%H.%M.%S")
        self.path = self.folder / f"{PREFIX}{stamp}.colpkg"
        self.folder.mkdir(exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{PREFIX}", suffix=".tmp", dir=self.folder)
        os.close(fd)
        self.tmp = Path(name)
        database = self.tmp.with_name(self.tmp.name + ".anki2")
        try:
            _copy(collection, database)
            with zipfile.ZipFile(self.tmp, "w", zipfile.ZIP_DEFLATED) as package:
                package.write(database, "collection.anki2")
                package.writestr("media", "{}")
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        finally:
            database.unlink(missing_ok=True)

    def keep(self) -> Path:
        """Put the backup in place (and remove the oldest of guidedeck's beyond :data:`KEEP`)."""
        stem, n = self.path.stem, 1
        while self.path.exists():  # two pushes in one second: each keeps its own
            n += 1
            self.path = self.path.with_name(f"{stem}-{n}.colpkg")
        self.tmp.replace(self.path)
        ours = sorted(self.folder.glob(f"{PREFIX}*.colpkg"), key=lambda p: p.stat().st_mtime_ns)
        for old in ours[:-KEEP]:
            old.unlink(missing_ok=True)
        return self.path

    def discard(self) -> None:
        """Forget the backup (the push changed nothing)."""
        self.tmp.unlink(missing_ok=True)


def read_only_uri(path: Path) -> str:
    """SQLite's URI of ``path`` opened read-only (any character of the path quoted)."""
    return path.absolute().as_uri() + "?mode=ro"


def _copy(collection: Path, database: Path) -> None:
    """The collection's pages into ``database``, read-only (raises sqlite3.Error)."""
    source = sqlite3.connect(read_only_uri(collection), uri=True, timeout=0.5)
    try:
        target = sqlite3.connect(database)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


__all__ = ["KEEP", "PREFIX", "Backup", "read_only_uri"]
