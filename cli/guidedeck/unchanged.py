"""A build with nothing to do: when nothing it would read has changed since the last build,
its report is known without reading a guide, a deck or a lock file.

After a build that wrote everything it meant to, the cache keeps a *state*: each file the build
read or wrote (every guide, the images they show, every lock file in the guides' folders, every
file in the output folder) with its size, mtime, inode and SHA-256 as the build left it, and the
report a build would give with nothing changed. The next build compares the files' ``stat`` (and,
where that differs, their SHA-256: a checkout that rewrote a file with the same bytes changes
nothing); when all match, with the same configuration and the same code, that report is the
build's, and nothing else is read. Any difference, and the build runs in full.

Only a clean build leaves a state (no error, no package left unwritten, no notice, no note of a
kind no longer built, no gone guide's notes): then "nothing changed" has exactly one report,
every guide's notes unchanged. The state is a signed cache entry (:mod:`guidedeck.cache`): one
copied from elsewhere is never read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from guidedeck.cache import CACHE_DIR, Cache, fingerprint
from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic, Severity, SourceLoc
from guidedeck.kinds import CardKind
from guidedeck.lockfile import NoteEntry, lock_files_under
from guidedeck.report import BuildReport, GuideReport, PackageReport, made_no_cards

KIND = "state"
SLOT = "last-build"
MAX_STATE_FILES = 200_000
"""Past this many files, no state is kept (the check would cost more than it saves)."""

FileState = list[Any]
"""``[size, mtime_ns, inode, sha256]`` of a file as the last build left it."""


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _lock_files(roots: Iterable[Path]) -> list[Path]:
    """Every lock file a build reads beside the guides (as :mod:`guidedeck.memory` finds them)."""
    return sorted({p for root in roots for p in lock_files_under(root)})


def _output_files(out_dir: Path) -> list[Path]:
    try:
        return sorted(p for p in out_dir.iterdir() if p.name != CACHE_DIR)
    except OSError:
        return []


def _watched(
    packages: Sequence[PackageConfig], out_dir: Path, roots: Sequence[Path], deps: Iterable[str]
) -> list[Path]:
    """The files a build reads or writes, besides the configuration."""
    guides = [p for c in packages for p in c.guides]
    return sorted({*guides, *map(Path, deps), *_lock_files(roots), *_output_files(out_dir)})


def _kinds() -> list[str]:
    """The card kinds as this process has them: each notetype, its design and the functions
    that make its fields (a kind added or a design changed at run time is another build)."""
    from guidedeck.cards import KINDS
    from guidedeck.notetypes import design, design_hash

    out = []
    for name, spec in KINDS.items():
        out += [name, repr(spec.notetype), design_hash(design(name))]
        for part in dataclasses.fields(spec):
            value = getattr(spec, part.name)
            if callable(value):
                where = getattr(value, "__module__", "")
                out.append(f"{where}.{getattr(value, '__qualname__', '')}")
    return out


def _key(
    packages: Sequence[PackageConfig], out_dir: Path, roots: Sequence[Path], strict: bool
) -> str:
    """The code, the card kinds, the configuration and where the build writes: another of any
    of them, another build."""
    where = (str(out_dir.resolve()), [str(r) for r in roots], strict)
    text = repr((fingerprint(), _kinds(), [repr(c) for c in packages], where))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the report of a build with nothing to do ---------------------------------------------------


def _diagnostic(d: Diagnostic) -> list[Any]:
    return [d.loc.path, d.loc.line, d.loc.col, d.severity.value, d.message]


def _quiet_guide(guide: GuideReport) -> dict[str, Any]:
    counts = {str(k): n for k, n in guide.counts.items()}
    # what this build saw leave the guide has left it "before" for the next one
    gone = sorted((*guide.removed, *guide.removed_before), key=lambda e: e.guid)
    return {"path": str(guide.path), "title": guide.title, "counts": counts,
            "diagnostics": [_diagnostic(d) for d in guide.diagnostics],
            "gone": [dataclasses.asdict(e) for e in gone]}  # fmt: skip


def _notices(packages: Sequence[PackageReport]) -> list[str]:
    """The notices every build says again: the scanned files that make no cards."""
    return [made_no_cards(p.config) for p in packages if p.skipped]


def _clean(report: BuildReport) -> bool:
    """Whether a build with nothing changed would say exactly "every note unchanged"."""
    return not (
        report.failed or report.dry_run or report.declined or report.problems
        or report.notices != _notices(report.packages) or report.removed_elsewhere
        or any(not (p.written or p.skipped) or p.problems for p in report.packages)
        or any(g.dropped for p in report.packages for g in p.guides)
    )  # fmt: skip


def record(
    report: BuildReport, packages: Sequence[PackageConfig], out_dir: Path,
    roots: Sequence[Path], strict: bool, cache: Cache, marks: Mapping[Path, str],
    last: Previous | None,
) -> None:  # fmt: skip
    """After a build: keep the state of everything it read and wrote (see the module);
    ``last``, the state the build started from, spares hashing the files it left alone."""
    if cache.root is None or not cache.writable or not _clean(report):
        return
    files = _watched(packages, out_dir, roots, cache.deps_seen)
    if len(files) > MAX_STATE_FILES:
        return
    before = last.files if last is not None else {}
    state = {str(p): _state_of(p, before.get(str(p))) for p in files}
    quiet = [
        {"skipped": p.skipped, "guides": [_quiet_guide(g) for g in p.guides]}
        for p in report.packages
    ]
    deps = sorted(cache.deps_seen)
    kept = {str(home): mark for home, mark in marks.items()}
    packed = json.dumps(
        {"files": state, "deps": deps, "marks": kept, "packages": quiet}, ensure_ascii=True
    ).encode()
    cache.put_packed(SLOT, _key(packages, out_dir, roots, strict), packed, {}, kind=KIND)


def _state_of(path: Path, before: FileState | None) -> FileState:
    """``path``'s state; its SHA-256 taken from the last state when its ``stat`` is the same
    (an edit of one guide hashes that guide, its lock and its deck, not every file)."""
    now = list(_stat(path) or (-1, -1, -1))
    if isinstance(before, list) and len(before) == 4 and before[:3] == now and now[0] != -1:
        return [*now, before[3]]
    return [*now, _sha(path)]


class Previous:
    """The state the last clean build kept, as the next build reads it."""

    def __init__(self, files: dict[str, FileState], deps: list[str], marks: dict[str, str],
                 quiet: list[dict[str, Any]]) -> None:  # fmt: skip
        self.files, self.deps, self.marks, self.quiet = files, deps, marks, quiet

    def untouched(self, paths: Iterable[Path]) -> bool:
        """Whether each of ``paths`` is as the last build left it."""
        return all(str(p) in self.files and _same(p, self.files[str(p)]) for p in paths)


def previous(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    roots: Sequence[Path],
    strict: bool,
    cache: Cache,
) -> Previous | None:
    """The state of the last clean build with this code, configuration and output folder."""
    if cache.root is None:
        return None
    packed = cache.get_packed(SLOT, _key(packages, out_dir, roots, strict), kind=KIND)
    if packed is None:
        return None
    try:
        state = json.loads(packed)
        files, deps, marks = state["files"], state["deps"], state.get("marks", {})
        if not (isinstance(files, dict) and isinstance(deps, list) and isinstance(marks, dict)):
            return None
        return Previous(files, [str(d) for d in deps], marks, list(state["packages"]))
    except (ValueError, KeyError, TypeError):
        return None


def guide_mark(matched: Sequence[str | None], removed: Iterable[str], deck: str) -> str:
    """What a guide's notes were made of, besides the files: the notes its cards continued, in
    order, the notes it lost, and its deck (see :func:`guidedeck.stage.Staging`)."""
    text = json.dumps([list(matched), sorted(removed), deck])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _same(path: Path, was: FileState) -> bool:
    now = _stat(path)
    if now is None:
        return bool(was[0] == -1)
    if list(now) == was[:3]:
        return True
    return bool(now[0] == was[0] and _sha(path) == was[3])


def nothing_to_do(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    roots: Sequence[Path],
    strict: bool,
    cache: Cache,
) -> BuildReport | None:
    """The report of this build when nothing it would read changed since the last clean
    build; None when something did (or no state is kept): then the build runs in full."""
    last = previous(packages, out_dir, roots, strict, cache)
    if last is None:
        return None
    try:
        if sorted(map(Path, last.files)) != _watched(packages, out_dir, roots, last.deps):
            return None  # a file came or went
        if not last.untouched(map(Path, last.files)):
            return None
        return _report(packages, out_dir, last.quiet)
    except (ValueError, KeyError, TypeError, IndexError):
        return None  # another format: the build runs in full


def _statuses(notes: int) -> Counter[str]:
    """A guide's statuses as a build that changed nothing counts them."""
    status = Counter({"removed": 0})
    if notes:
        status["unchanged"] = notes
    return status


def _report(
    packages: Sequence[PackageConfig], out_dir: Path, quiet: list[dict[str, Any]]
) -> BuildReport | None:
    if len(quiet) != len(packages):
        return None
    report = BuildReport(unread=True)
    report.reused = sum(len(c.guides) for c in packages)  # known from the last build
    for config, pkg in zip(packages, quiet, strict=True):
        made = PackageReport(config, out_dir / config.output, ready=True)
        made.skipped = bool(pkg["skipped"])
        made.written = made.unchanged = not made.skipped
        for guide in pkg["guides"]:
            counts: Counter[CardKind] = Counter(
                {CardKind(k): int(n) for k, n in guide["counts"].items()}
            )
            made.guides.append(GuideReport(
                Path(guide["path"]), str(guide["title"]), counts,
                _statuses(sum(counts.values())),
                removed_before=[NoteEntry(**e) for e in guide["gone"]],
                diagnostics=tuple(
                    Diagnostic(SourceLoc(str(p), int(line), int(col)), Severity(s), str(m))
                    for p, line, col, s, m in guide["diagnostics"]
                ),
            ))  # fmt: skip
        report.packages.append(made)
    report.notices = _notices(report.packages)
    report.seconds = time.perf_counter() - report.started
    return report


__all__ = ["Previous", "guide_mark", "nothing_to_do", "previous", "record"]
