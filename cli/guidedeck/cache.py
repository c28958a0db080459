"""The build cache: each guide's prepared cards, and what each deck was last built from.

A rebuild after an edit of one guide should cost one guide. Three things are kept, under the
output folder in ``.guidedeck-cache/`` (safe to delete at any time; never committed, it holds a
``.gitignore`` and a ``CACHEDIR.TAG`` so that git and backup tools leave it alone):

- **prepared guides** (read, parsed, rendered), one entry per guide and configuration, valid
  while the guide's bytes, the configuration that applies to it, the images it shows and the
  code that made it (guidedeck's own files, its templates, the versions of the libraries that
  parse and highlight) are unchanged. An entry holds the hash of all that; a stale one is
  replaced, never used. Entries are plain data (:mod:`guidedeck.codec`, JSON read back through
  type-checked constructors; never pickles), each signed with a key made of a random secret in
  the folder and that file's own identity on disk: a cache copied from elsewhere, committed to
  a repository or crafted, is never read. Nothing is followed through a symbolic link.
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
import hmac
import json
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from guidedeck.resources import data_dir

CACHE_DIR = ".guidedeck-cache"
FORMAT = b"guidedeck-cache 2\n"
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


KEY_FILE = "KEY"
"""A random secret in the cache folder; with the file's own identity on disk it signs every
entry, so that a cache copied from elsewhere (committed to a repository) is never trusted."""
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}(?:\.json)?")


@dataclass
class Cache:
    """One output folder's cache; ``Cache(None)`` caches nothing."""

    root: Path | None
    writable: bool = True
    """False for a dry run: entries are read, nothing is written."""
    hits: int = 0
    misses: int = 0
    used: set[str] = field(default_factory=set)
    deps_seen: set[str] = field(default_factory=set)
    """The files (images) the guides of this build depend on, as their entries name them."""
    _staging: Path | None = None
    _signer: bytes | None = None

    @classmethod
    def under(cls, out_dir: Path, *, enabled: bool = True, writable: bool = True) -> Cache:
        """The cache of output folder ``out_dir`` (disabled, or reached through a symbolic
        link: one that caches nothing)."""
        root = out_dir / CACHE_DIR
        if not enabled or _linked(root):
            return cls(None, writable)
        return cls(root, writable)

    # --- signing -------------------------------------------------------------------------------

    def _key(self, create: bool) -> bytes | None:
        """The key entries are signed with: the folder's secret and the identity (device and
        inode) of the file holding it, which no copy of the folder shares."""
        if self._signer is not None:
            return self._signer
        base = self._staging or self.root
        assert base is not None
        path = base / KEY_FILE
        try:
            if create and not os.path.lexists(path) and not _linked(base):
                base.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(secrets.token_hex(32))
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                secret = handle.read(128)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or len(secret) < 32:
            return None
        self._signer = hashlib.sha256(secret + f":{info.st_dev}:{info.st_ino}".encode()).digest()
        return self._signer

    def _sign(self, packed: bytes, create: bool) -> bytes | None:
        key = self._key(create)
        return None if key is None else hmac.new(key, packed, "sha256").hexdigest().encode()

    # --- prepared guides -----------------------------------------------------------------------

    def _entry(self, slot: str, kind: str = "guides") -> Path:
        assert self.root is not None
        return self.root / kind / f"{slot}.json"

    def has(self, slot: str, key: str, kind: str = "guides") -> bool:
        """Whether an entry for ``key`` is stored (it is checked by :meth:`get_packed`)."""
        if self.root is None:
            return False
        try:
            head = _read_unlinked(self._entry(slot, kind), len(FORMAT) + 65)
            return head == FORMAT + key.encode() + b"\n"
        except OSError:
            return False

    def get_packed(
        self, slot: str, key: str, kind: str = "guides", *, check: bool = True
    ) -> bytes | None:
        """The value stored for ``key`` (bytes as its codec made them), if this cache signed
        it and every file it depends on is as it was (``check=False``: as it was when the
        entry was last found valid)."""
        if self.root is None or _linked(self.root / kind):
            return None
        head = FORMAT + key.encode() + b"\n"
        try:
            entry = _read_unlinked(self._entry(slot, kind))
            if not entry.startswith(head):
                return None
            deps_line, signature, packed = entry[len(head) :].split(b"\n", 2)
            expected = self._sign(head + deps_line + b"\n" + packed, create=False)
            if expected is None or not hmac.compare_digest(expected, signature):
                return None  # not written by this cache: a copy, or crafted
            deps = json.loads(deps_line)
            self.deps_seen.update(deps)
            if check and any(file_state(p) != state for p, state in deps.items()):
                return None
        except (OSError, ValueError, AttributeError):  # cut short, or from elsewhere: a miss
            return None
        self.used.add(f"{kind}/{slot}")
        return packed

    def put_packed(
        self, slot: str, key: str, packed: bytes, deps: Mapping[str, str], kind: str = "guides"
    ) -> None:
        """Store a value (bytes as its codec made them) for ``key``; ``deps`` maps the files it
        was made from to their state (:func:`file_state`)."""
        if self.root is None or not self.writable:
            return
        self.used.add(f"{kind}/{slot}")
        self.deps_seen.update(deps)
        head = FORMAT + key.encode() + b"\n"
        deps_line = json.dumps(dict(deps), ensure_ascii=True).encode("ascii")
        self._begin()
        signature = self._sign(head + deps_line + b"\n" + packed, create=True)
        if signature is not None:
            self._write(self._entry(slot, kind), head + deps_line + b"\n" + signature + b"\n"
                        + packed)  # fmt: skip

    # --- files read back (previous decks, lock files) -------------------------------------------

    @staticmethod
    def _file_key(kind: str, path: Path, data: bytes) -> tuple[str, str]:
        slot = digest_of(kind, str(path.resolve()))[:32]
        return slot, hashlib.sha256(fingerprint().encode() + b"\0" + data).hexdigest()

    def recall(self, kind: str, path: Path, data: bytes) -> bytes | None:
        """What was read from file ``path`` when it held ``data``, packed (None: not known)."""
        if self.root is None:
            return None
        return self.get_packed(*self._file_key(kind, path, data), kind=kind)

    def remember(self, kind: str, path: Path, data: bytes, packed: bytes) -> None:
        """Keep what was read from file ``path`` holding ``data``, packed."""
        if self.root is not None:
            self.put_packed(*self._file_key(kind, path, data), packed, {}, kind=kind)

    # --- built decks ---------------------------------------------------------------------------

    def _deck_record(self, output: Path) -> Path:
        assert self.root is not None
        return self.root / "decks" / digest_of(str(output.resolve()))[:32]

    def deck_unchanged(self, output: Path, inputs: str) -> bool:
        """Whether ``output`` is the deck built from ``inputs`` last time, untouched since."""
        if self.root is None or _linked(self.root / "decks"):
            return False
        try:
            recorded = _read_unlinked(self._deck_record(output), 4096).decode("ascii").split()
        except (OSError, ValueError):
            return False
        state = file_state(str(output))  # a digest of the whole deck: made once
        signature = self._sign(f"{inputs} {state}".encode(), create=False)
        return signature is not None and recorded[:3] == [inputs, state, signature.decode()]

    def record_deck(self, output: Path, inputs: str, written: str) -> None:
        """Remember that ``output`` now holds bytes of digest ``written``, built from
        ``inputs``."""
        if self.root is None or not self.writable:
            return
        self._begin()
        signature = self._sign(f"{inputs} {written}".encode(), create=True)
        if signature is not None:
            line = f"{inputs} {written} {signature.decode()}\n"
            self._write(self._deck_record(output), line.encode("ascii"))

    # --- upkeep --------------------------------------------------------------------------------

    def prune(self, now: float) -> None:
        """Touch the entries this build used; remove those unused for a month (only files
        named as this cache names its entries, in its own folders)."""
        if self.root is None or not self.writable or _linked(self.root):
            return
        entries: list[Path] = []
        for kind in ("guides", "decks-read", "locks-read"):
            folder = self.root / kind
            if not _linked(folder):
                with contextlib.suppress(OSError):
                    entries.extend(folder.iterdir())
        for entry in entries:
            try:
                if not _ENTRY_NAME.fullmatch(entry.name) or entry.is_symlink():
                    continue
                if f"{entry.parent.name}/{entry.stem}" in self.used:
                    os.utime(entry, (now, now))
                elif entry.stat().st_mtime < now - _KEEP_DAYS * 86_400:
                    entry.unlink()
            except OSError:
                continue

    def _begin(self) -> None:
        """While the output folder does not exist (a first build), files go to a folder of
        their own beside it (on the same disk, so that moving it keeps the key file's identity),
        moved into place by :meth:`finish` once the build has written its decks: a build that
        writes nothing leaves no folder behind."""
        assert self.root is not None
        if self._staging is not None or self.root.parent.is_dir():
            return
        near = self.root.parent
        while not near.is_dir() and near != near.parent:
            near = near.parent
        try:
            self._staging = Path(tempfile.mkdtemp(prefix=".guidedeck-cache-", dir=near))
        except OSError:
            self._staging = Path(tempfile.mkdtemp(prefix="guidedeck-cache-"))

    def _write(self, target: Path, data: bytes) -> None:
        """Write a cache file atomically, never through a symbolic link; a cache that cannot
        be written is only slower."""
        from guidedeck.package import write_atomic

        assert self.root is not None
        base = self._staging or self.root
        target = base / target.relative_to(self.root)
        try:
            if _linked(base) or _linked(target.parent) or _linked(target):
                return
            if not (base / ".gitignore").exists():
                _mark(base)
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
            if keep and self.root is not None and not os.path.lexists(self.root):
                self.root.parent.mkdir(parents=True, exist_ok=True)
                staging.rename(self.root)
        except OSError:
            pass  # a cache that cannot be put in place is only slower
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            self._signer = None


def _read_unlinked(path: Path, size: int = -1) -> bytes:
    """The bytes of ``path`` (at most ``size``), never through a symbolic link (OSError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(size)


def _linked(path: Path) -> bool:
    """Whether ``path`` is a symbolic link (the cache never follows one out of its folder)."""
    return path.is_symlink()


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
]
