"""The one object the build's stages pass along: what to build, and what each stage found.

:func:`resolve` makes it from the packages (the *resolve inputs* stage); the stages after it
fill in their part: ``memory`` (remember), ``work`` (prepare, then match), ``claimed`` (match),
and the report as they go.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from guidedeck.cache import Cache
from guidedeck.codec import unpack_prepared
from guidedeck.config import PackageConfig, short_name
from guidedeck.diagnostics import GuideError
from guidedeck.identity import Candidate
from guidedeck.kinds import CardKind
from guidedeck.lockfile import LOCK_SUFFIX
from guidedeck.memory import Memory
from guidedeck.prepare import Prepared, Reload
from guidedeck.report import BuildReport, GuideReport, PackageReport
from guidedeck.resources import data_dir
from guidedeck.unchanged import Previous, previous


@dataclass(frozen=True)
class BuildOptions:
    """How to build: where to, how strictly, whether to write, and when."""

    out_dir: Path
    strict: bool = False
    dry_run: bool = False
    now: int = field(default_factory=lambda: int(time.time()))
    """The mtime (seconds) given to new and changed notes."""
    jobs: int = 1
    """How many processes read and render guides."""
    roots: tuple[Path, ...] = ()
    """The folders the guides were found in (searched for lock files of guides that are gone);
    none: each guide's own folder."""
    on_guide: Callable[[Path], None] | None = None
    """Called as each guide is prepared (a progress bar)."""


@dataclass
class GuideWork:
    """One guide of one package, between preparing and staging."""

    package: int
    path: Path
    home: Path
    """The guide's resolved path: what remembered notes name as their home."""
    kinds: tuple[CardKind, ...]
    report: GuideReport
    usable: bool = False
    title: str = ""
    cards: dict[int, Candidate] = field(default_factory=dict)
    """Cards by their place in the guide; after matching at home, only those without a note."""
    matched: list[str | None] = field(default_factory=list)
    """Per card: the GUID of the remembered note it continues, or None."""
    packed: bytes = b""
    """The prepared guide, pickled and compressed: kept small until it is staged."""
    reload: Reload | None = None
    """For a guide from the cache, which is not held: how to have it again."""

    def unpack(self) -> Prepared:
        """The prepared guide (raises :class:`guidedeck.prepare.GuideChangedError`)."""
        packed = self.packed or (self.reload() if self.reload is not None else b"")
        return unpack_prepared(packed)


@dataclass
class BuildPlan:
    """Everything the stages share, made by :func:`resolve`."""

    packages: Sequence[PackageConfig]
    options: BuildOptions
    cache: Cache
    homes: tuple[tuple[Path, ...], ...]
    """Each package's guides, resolved (what remembered notes name as their home)."""
    locks: dict[Path, Path]
    """Each guide (resolved) -> its lock file."""
    roots: tuple[Path, ...]
    report: BuildReport
    memory: Memory = field(default_factory=Memory)
    work: list[GuideWork] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)
    """GUIDs of the remembered notes that a card of this build continues."""
    previous: Previous | None = None
    """The state the last clean build kept (:mod:`guidedeck.unchanged`): a package whose
    files and notes are as it left them is not staged again."""

    @property
    def folders(self) -> list[Path]:
        """Every folder the build writes to: the output folder and the lock files' folders."""
        return [self.options.out_dir, *{lock.parent for lock in self.locks.values()}]


def resolve(
    packages: Sequence[PackageConfig], options: BuildOptions, cache: Cache | None = None
) -> BuildPlan:
    """The *resolve inputs* stage: each guide's lock file, the folders searched for gone
    guides' locks, and a report with a line per package."""
    out_dir = options.out_dir
    report = BuildReport(dry_run=options.dry_run)
    report.packages = [PackageReport(c, out_dir / c.output) for c in packages]
    last = None
    if cache is not None and not options.dry_run:
        last = previous(packages, out_dir, options.roots, options.strict, cache)
    homes = tuple(tuple(p.resolve() for p in c.guides) for c in packages)
    return BuildPlan(
        packages=packages,
        options=options,
        cache=Cache(None) if cache is None else cache,
        homes=homes,
        locks={
            home: lock_path(p, out_dir)
            for c, resolved in zip(packages, homes, strict=True)
            for p, home in zip(c.guides, resolved, strict=True)
        },
        roots=options.roots or tuple(sorted({p.parent for c in packages for p in c.guides})),
        report=report,
        previous=last,
    )


def lock_path(guide: Path, out_dir: Path) -> Path:
    """``<stem>.guidedeck.lock`` beside the guide, committed with it; for the sample shipped with
    guidedeck (not the user's to commit, maybe not writable), beside the decks in ``out_dir``.

    One lock file per guide keeps each guide's identity changes in its own diff.
    """
    stem = guide.stem
    if guide.suffix.lower() != ".md" and guide.with_suffix(".md").exists():
        stem = guide.name  # a.mdx beside a.md: each keeps a lock of its own
    name = f"{short_name(stem)}{LOCK_SUFFIX}"
    if guide.resolve().is_relative_to(data_dir("deck_source").resolve()):
        return out_dir / name
    return guide.parent / name


@contextmanager
def folder_locks(folders: Sequence[Path]) -> Iterator[None]:
    """Hold an exclusive file lock per folder (sorted, so two builds never deadlock).

    The lock files live in the system's temporary folder, named by a hash of the folder's path,
    so nothing is added to the user's guide folders.
    """
    import getpass

    from filelock import FileLock

    # one folder per user: a folder another user made would not be writable
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid with no name (containers)
        user = "anyone"
    where = Path(tempfile.gettempdir()) / f"guidedeck-locks-{user}"
    _own_folder(where)
    names = sorted({hashlib.sha256(str(f.resolve()).encode()).hexdigest()[:24] for f in folders})
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(FileLock(str(where / f"{name}.lock")))
        yield


class FolderLockError(GuideError):
    """The folder of the builds' file locks is not safe to use."""


def _own_folder(where: Path) -> None:
    """Make ``where`` (0700), or check that the one there is this user's own real folder that
    no one else may write: the temporary folder is shared, and its name is predictable."""
    with suppress(FileExistsError):
        where.mkdir(mode=0o700)
    info = where.lstat()
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    if not stat.S_ISDIR(info.st_mode) or not mine or info.st_mode & 0o077:
        raise FolderLockError(
            f"{where} (where builds take their locks) is not a folder of yours that only you "
            "may write; remove it, or set TMPDIR to a folder of your own"
        )


__all__ = ["BuildOptions", "BuildPlan", "GuideWork", "folder_locks", "lock_path", "resolve"]
