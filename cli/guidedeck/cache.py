"""The build cache: each guide's prepared cards, and what each deck was last built from.

A rebuild after an edit of one guide should cost one guide. Three things are kept, under the
output folder in ``.guidedeck-cache/`` (safe to delete at any time; never committed, it holds a
``.gitignore`` and a ``CACHEDIR.TAG`` so that git and backup tools leave it alone):

- **prepared guides** (read, parsed, rendered), one entry per guide and configuration, valid
  while the guide's bytes, the configuration that applies to it, the images it shows and the
  code that made it (guidedeck's own files, its templates, the versions of the libraries that
  parse and highlight) are unchanged. An entry holds the hash of all that; a stale one is
  replaced, never used. As Sphinx does with its environment, entries are pickles: the folder
  is the user's own output folder, written only by guidedeck.
- **built decks**: per deck file, a digest of everything its bytes are made from and the digest
  of the file written. A deck whose inputs and file are both unchanged is not rebuilt nor
  rewritten (its mtime stays, so sync tools and Anki see nothing new).
- **files read back**: what was read of each previous deck and lock file, by its bytes (they are
  still read on every build, as the truth to match against; only parsing them is saved).

The cache can never change a result: a hit returns what preparing would return (a test builds
with and without it and compares the bytes), and any doubt (an unreadable entry, another format)
is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from guidedeck.resources import data_dir

CACHE_DIR = ".guidedeck-cache"
FORMAT = b"guidedeck-cache 1\n"
_KEEP_DAYS = 30
"""Entries of guides no build has used for this long (deleted or renamed guides) are removed."""
_LIBRARIES = ("markdown-it-py", "pygments", "pyyaml", "genanki")
_CODE_SUFFIXES = frozenset({".py", ".html", ".css", ".js", ".yaml"})


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A digest of the code that turns guides into decks: guidedeck's files, its templates, the
    libraries' versions and Python's. Any change to them invalidates every entry."""
    digest = hashlib.sha256(FORMAT + sys.version.encode())
    for name in _LIBRARIES:
        try:
            digest.update(f"\0{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{name}=?".encode())
    package = Path(__file__).resolve().parent
    for root in (package, data_dir("templates")):
        for path in sorted(root.rglob("*")):
            if path.suffix in _CODE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def pack(value: Any) -> bytes:
    """``value`` pickled and compressed (fast, level 1): how the cache and a build keep it."""
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(packed: bytes) -> Any:
    """The value :func:`pack` made ``packed`` from."""
    return pickle.loads(zlib.decompress(packed))


def file_state(path: str) -> str:
    """What a build read of a file it depends on: its content digest, or "" when absent."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def digest_of(*parts: object) -> str:
    """A digest of ``parts`` by their ``repr`` (built of strings, numbers, tuples and dicts in
    a fixed order, so equal inputs give equal digests)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def guide_key(path: Path, data: bytes, options: Iterable[object]) -> tuple[str, str]:
    """``(slot, key)`` of a guide: the slot names the guide and its configuration (one entry
    each, replaced when stale), the key is a digest of all its prepared cards depend on but
    the images (checked on use)."""
    slot = digest_of(str(path), tuple(options))[:32]
    key = hashlib.sha256(fingerprint().encode() + b"\0" + slot.encode() + b"\0" + data)
    return slot, key.hexdigest()


def deck_digest(*parts: object) -> str:
    """A digest of what a deck's bytes are made from, and of the code that makes them."""
    return digest_of(fingerprint(), *parts)


@dataclass
class Cache:
    """One output folder's cache; ``Cache(None)`` caches nothing."""

    root: Path | None
    writable: bool = True
    """False for a dry run: entries are read, nothing is written."""
    hits: int = 0
    misses: int = 0
    used: set[str] = field(default_factory=set)
    _staging: Path | None = None

    @classmethod
    def under(cls, out_dir: Path, *, enabled: bool = True, writable: bool = True) -> Cache:
        """The cache of output folder ``out_dir`` (disabled: one that caches nothing)."""
        return cls(out_dir / CACHE_DIR if enabled else None, writable)

    # --- prepared guides -----------------------------------------------------------------------

    def _entry(self, slot: str, kind: str = "guides") -> Path:
        assert self.root is not None
        return self.root / kind / f"{slot}.pickle"

    def has(self, slot: str, key: str, kind: str = "guides") -> bool:
        """Whether an entry for ``key`` is stored (its dependencies are checked by :meth:`get`)."""
        if self.root is None:
            return False
        try:
            with self._entry(slot, kind).open("rb") as handle:
                return handle.read(len(FORMAT) + 65) == FORMAT + key.encode() + b"\n"
        except OSError:
            return False

    def get_packed(
        self, slot: str, key: str, kind: str = "guides", *, check: bool = True
    ) -> bytes | None:
        """The value stored for ``key`` as :func:`pack` made it, if every file it depends on
        is as it was (``check=False``: as it was when the entry was last found valid)."""
        if self.root is None:
            return None
        head = FORMAT + key.encode() + b"\n"
        try:
            entry = self._entry(slot, kind).read_bytes()
            if not entry.startswith(head):
                return None
            deps_line, checksum, packed = entry[len(head) :].split(b"\n", 2)
            if hashlib.sha256(packed).hexdigest().encode() != checksum:
                return None
            deps = json.loads(deps_line)
            if check and any(file_state(p) != state for p, state in deps.items()):
                return None
        except (OSError, ValueError, AttributeError):  # cut short, or from elsewhere: a miss
            return None
        self.used.add(f"{kind}/{slot}")
        return packed

    def get(self, slot: str, key: str, kind: str = "guides") -> Any | None:
        """The value stored for ``key``, if every file it depends on is as it was."""
        packed = self.get_packed(slot, key, kind)
        try:
            return None if packed is None else unpack(packed)
        except Exception:  # an entry that does not unpickle is only a miss
            return None

    def put_packed(
        self, slot: str, key: str, packed: bytes, deps: Mapping[str, str], kind: str = "guides"
    ) -> None:
        """Store a value made by :func:`pack` for ``key``; ``deps`` maps the files it was made
        from to their state (:func:`file_state`)."""
        if self.root is None or not self.writable:
            return
        self.used.add(f"{kind}/{slot}")
        deps_line = json.dumps(dict(deps), ensure_ascii=True).encode("ascii")
        checksum = hashlib.sha256(packed).hexdigest().encode()
        head = FORMAT + key.encode() + b"\n" + deps_line + b"\n" + checksum + b"\n"
        self._write(self._entry(slot, kind), head + packed)

    def put(
        self, slot: str, key: str, value: Any, deps: Mapping[str, str], kind: str = "guides"
    ) -> None:
        """Store ``value`` for ``key`` (see :meth:`put_packed`)."""
        if self.root is not None and self.writable:
            self.put_packed(slot, key, pack(value), deps, kind)

    # --- files read back (previous decks, lock files) -------------------------------------------

    @staticmethod
    def _file_key(kind: str, path: Path, data: bytes) -> tuple[str, str]:
        slot = digest_of(kind, str(path.resolve()))[:32]
        return slot, hashlib.sha256(fingerprint().encode() + b"\0" + data).hexdigest()

    def recall(self, kind: str, path: Path, data: bytes) -> Any | None:
        """What was read from file ``path`` when it held ``data`` (None: not known)."""
        if self.root is None:
            return None
        return self.get(*self._file_key(kind, path, data), kind=kind)

    def remember(self, kind: str, path: Path, data: bytes, value: Any) -> None:
        """Keep what was read from file ``path`` holding ``data``."""
        if self.root is not None:
            self.put(*self._file_key(kind, path, data), value, {}, kind=kind)

    # --- built decks ---------------------------------------------------------------------------

    def _deck_record(self, output: Path) -> Path:
        assert self.root is not None
        return self.root / "decks" / digest_of(str(output.resolve()))[:32]

    def deck_unchanged(self, output: Path, inputs: str) -> bool:
        """Whether ``output`` is the deck built from ``inputs`` last time, untouched since."""
        if self.root is None:
            return False
        try:
            recorded = self._deck_record(output).read_text(encoding="ascii").split()
        except (OSError, ValueError):
            return False
        return recorded[:1] == [inputs] and recorded[1:] == [file_state(str(output))]

    def record_deck(self, output: Path, inputs: str, written: str) -> None:
        """Remember that ``output`` now holds bytes of digest ``written``, built from
        ``inputs``."""
        if self.root is None or not self.writable:
            return
        line = f"{inputs} {written}\n"
        self._write(self._deck_record(output), line.encode("ascii"))

    # --- upkeep --------------------------------------------------------------------------------

    def prune(self, now: float) -> None:
        """Touch the entries this build used; remove those unused for a month."""
        if self.root is None or not self.writable:
            return
        entries: list[Path] = []
        for kind in ("guides", "decks-read", "locks-read"):
            with contextlib.suppress(OSError):
                entries.extend((self.root / kind).iterdir())
        for entry in entries:
            try:
                if f"{entry.parent.name}/{entry.stem}" in self.used:
                    os.utime(entry, (now, now))
                elif entry.stat().st_mtime < now - _KEEP_DAYS * 86_400:
                    entry.unlink()
            except OSError:
                continue

    def _write(self, target: Path, data: bytes) -> None:
        """Write a cache file atomically; a cache that cannot be written is only slower.

        While the output folder does not exist (a first build), files go to a folder of their
        own, moved into place by :meth:`finish` once the build has written its decks: a build
        that writes nothing leaves no folder behind."""
        from guidedeck.package import write_atomic

        assert self.root is not None
        try:
            if self._staging is None and not self.root.parent.is_dir():
                self._staging = Path(tempfile.mkdtemp(prefix="guidedeck-cache-"))
            base = self._staging or self.root
            if not (base / ".gitignore").exists():
                _mark(base)
            target = base / target.relative_to(self.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        except OSError:
            return

    def finish(self, keep: bool) -> None:
        """Put the files of a first build in place (``keep``: it wrote its decks) or drop them."""
        staging, self._staging = self._staging, None
        if staging is None:
            return
        try:
            if keep and self.root is not None and not self.root.exists():
                shutil.move(str(staging), str(self.root))
        except OSError:
            pass  # a cache that cannot be put in place is only slower
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _mark(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "CACHEDIR.TAG").write_text(
        "Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This folder is guidedeck's build cache: safe to delete.\n",
        encoding="ascii",
    )
    (folder / ".gitignore").write_text("*\n", encoding="ascii")


__all__ = [
    "CACHE_DIR",
    "Cache",
    "deck_digest",
    "digest_of",
    "file_state",
    "fingerprint",
    "guide_key",
    "pack",
    "unpack",
]
