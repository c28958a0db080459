"""Which decks in the output folder are guidedeck's own: only they count as memory.

A deck read back decides which notes the user has, so a deck this build did not write (a
colleague's of the same guide, one downloaded beside it, a stranger's committed to a repository)
must not take over the user's notes. Two marks tell them apart, both plain data:

- every deck guidedeck writes carries a small ``guidedeck.json`` member naming the file it was
  written as (Anki's importers skip members they do not know);
- the output folder keeps a record (:data:`RECORD`) of the SHA-256 of each deck written there.

A deck the record lists is own only with the bytes recorded; a deck it does not list (a folder
without a record: a fresh clone with a committed ``build/``, a deck of another package) is own
when its mark names its file. Anything else is reported and ignored.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from guidedeck.guides import read_bounded

MARK = "guidedeck.json"
"""The member of a deck's zip that names the deck file it was written as."""
MARK_FORMAT = 1
RECORD = ".guidedeck-decks.json"
"""In the output folder: the digest of each deck guidedeck wrote there."""
MAX_RECORD_BYTES = 1024 * 1024
_MAX_MARK_BYTES = 4096


def mark(output: str) -> bytes:
    """The mark of a deck written as file ``output``."""
    return json.dumps({"guidedeck": MARK_FORMAT, "deck": output}, sort_keys=True).encode()


def digest(data: bytes) -> str:
    """The digest the record keeps of a deck's bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Record:
    """The output folder's record of the decks written there (``decks`` None: no record)."""

    path: Path
    decks: Mapping[str, str] | None

    def foreign(self, name: str, raw: bytes) -> str | None:
        """Why the deck file ``name`` holding ``raw`` is not this build's own (None: it is)."""
        listed = None if self.decks is None else self.decks.get(name)
        if listed is not None:
            if listed == digest(raw):
                return None
            return "not a deck this build wrote (it differs from the deck guidedeck wrote here)"
        if _marked(raw) != name:
            return "not a deck this build wrote (it carries no mark of guidedeck's for this file)"
        return None

    def updated(self, written: Mapping[str, str]) -> bytes | None:
        """The record's new text once ``written`` (file name -> digest) are in place, keeping
        the entries of decks still there; None when it would not change."""
        out = self.path.parent
        decks = {n: d for n, d in (self.decks or {}).items() if (out / n).is_file()}
        decks.update(written)
        if decks == self.decks:
            return None
        return (json.dumps({"format": 1, "decks": dict(sorted(decks.items()))}, indent=1)
                + "\n").encode()  # fmt: skip


def read_record(out_dir: Path) -> Record:
    """The output folder's record; an unreadable or malformed one is no record."""
    path = out_dir / RECORD
    try:
        data = json.loads(read_bounded(path, MAX_RECORD_BYTES).decode("utf-8"))
        decks = data["decks"]
        if data.get("format") != 1 or not isinstance(decks, dict):
            raise ValueError("not a record")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in decks.items()):
            raise ValueError("not a record")
        # a deck's file name only: the record never names a path outside its folder
        decks = {k: v for k, v in decks.items() if Path(k).name == k and k.endswith(".apkg")}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Record(path, None)
    return Record(path, decks)


def _marked(raw: bytes) -> str | None:
    """The file name a deck's mark gives (None: no mark)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo(MARK)
            if info.file_size > _MAX_MARK_BYTES:
                return None
            with archive.open(info) as handle:
                data = json.loads(handle.read(_MAX_MARK_BYTES + 1).decode("utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError):
        return None
    if not isinstance(data, dict) or data.get("guidedeck") != MARK_FORMAT:
        return None
    name = data.get("deck")
    return name if isinstance(name, str) else None


def output_problem(out: Path, *, writing: bool) -> str | None:
    """Why ``out`` cannot take the build's output (None: it can), said before any guide is read:
    a file where a folder should be, or (``writing``) a place nothing can be written into. The
    try leaves no trace: the folders it made to write its test file are removed again."""
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            where = "" if folder == out else f" ({folder} is a file)"
            return f"{out}: output path is a file, not a folder{where}"
    if not writing:
        return None
    made: list[Path] = []
    try:
        for folder in reversed([f for f in (out, *out.parents) if not f.exists()]):
            folder.mkdir()
            made.append(folder)
        fd, name = tempfile.mkstemp(prefix=".guidedeck-try-", dir=out)
        os.close(fd)
        Path(name).unlink()
    except OSError as exc:
        return f"{out}: cannot write the output there ({exc.strerror or exc})"
    finally:
        for folder in reversed(made):
            with suppress(OSError):
                folder.rmdir()
    return None


__all__ = ["MARK", "RECORD", "Record", "digest", "mark", "output_problem", "read_record"]
