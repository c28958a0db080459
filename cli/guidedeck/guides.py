"""Finding guide files and reading them into parse results, with problems as diagnostics."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guidedeck.diagnostics import Diagnostic, Severity, SourceLoc

if TYPE_CHECKING:
    from guidedeck.parse import ParseResult

GUIDE_SUFFIXES = (".md", ".mdx")
MAX_GUIDE_BYTES = 16 * 1024 * 1024
"""The largest guide read (the largest real one is 180 KB): a bigger file is refused, so that a
device or a runaway file cannot exhaust memory."""
SKIPPED_NAMES = frozenset(
    f"{name}{suffix}"
    for name in ("changelog", "license", "contributing", "code_of_conduct")
    for suffix in GUIDE_SUFFIXES
)
"""Files of a repository that never teach: never read as guides. README.md is read: most
question collections keep everything there."""


@dataclass(frozen=True, slots=True)
class GuideFile:
    """A guide path and what reading it gave: a parse result, or only diagnostics."""

    path: Path
    result: ParseResult | None
    diagnostics: tuple[Diagnostic, ...]

    def usable(self, strict: bool) -> bool:
        """Whether cards may be made from it: parsed, no error, and no warning when strict."""
        blocking = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        return self.result is not None and not any(d.severity in blocking for d in self.diagnostics)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Guide files named by ``paths``: files as given, folders searched for ``*.md``/``*.mdx``."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            below = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in GUIDE_SUFFIXES
                and p.name.lower() not in SKIPPED_NAMES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.is_file()
            )
            if not below:
                problems.append(
                    Diagnostic.warning(SourceLoc(str(path), 1), "folder holds no *.md guide")
                )
            found.extend(below)
        elif path.is_file():
            found.append(path)
        elif path.exists() or path.is_symlink():
            problems.append(
                Diagnostic.error(
                    SourceLoc(str(path), 1),
                    "not a regular file (a pipe, device or socket); guides are Markdown files",
                )
            )
        else:
            problems.append(Diagnostic.error(SourceLoc(str(path), 1), "no such file or folder"))
    unique = list(dict.fromkeys(found))
    return unique, problems


def read_bounded(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` of them.

    Raises OSError for what is not a regular file (opened without blocking, so a FIFO with no
    writer cannot hang the build) and ValueError when the file is larger than ``limit``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe, device or socket)")
        # the size it has, not the limit: read(n) sets n bytes aside before it reads any
        want = min(limit, info.st_size) + 1
        data = handle.read(want)
        if len(data) == want <= limit:  # it grew while being read
            data += handle.read(limit + 1 - want)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // (1024 * 1024)} MiB")
    return data


def read_text(path: Path, data: bytes | None = None) -> tuple[str | None, Diagnostic | None]:
    """The guide's text, or why it cannot be read (not UTF-8, binary, unreadable, too big).

    ``data``: the file's bytes, when the caller has read them already."""
    name = str(path)
    try:
        data = read_bounded(path, MAX_GUIDE_BYTES) if data is None else data
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, Diagnostic.error(SourceLoc(name, 1), f"cannot read file: {reason}")
    except ValueError as exc:
        return None, Diagnostic.error(SourceLoc(name, 1), f"guide is {exc}; not read")
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        return None, Diagnostic.error(
            SourceLoc(name, line), "binary file (NUL byte), not a Markdown guide"
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        return None, Diagnostic.error(
            SourceLoc(name, line, col), f"file is not UTF-8 (byte 0x{bad} cannot be decoded)"
        )


def read_guide(path: Path, dialect: str = "auto", data: bytes | None = None) -> GuideFile:
    """Read and parse one guide (``data``: its bytes, if read already); never raises for bad
    input."""
    text, problem = read_text(path, data)
    if text is None:
        assert problem is not None
        return GuideFile(path, None, (problem,))
    if not text.strip():
        return GuideFile(
            path, None, (Diagnostic.warning(SourceLoc(str(path), 1), "guide is empty"),)
        )
    # the parser loads only when a guide is read: a rebuild from the cache reads none
    from guidedeck.parse import parse

    try:
        result = parse(text, str(path), dialect)
    except RecursionError:
        message = "structure nested too deeply to read (thousands of levels)"
        return GuideFile(path, None, (Diagnostic.error(SourceLoc(str(path), 1), message),))
    return GuideFile(path, result, result.diagnostics)


def read_guides(paths: Iterable[Path]) -> Iterator[GuideFile]:
    """Every guide below ``paths``, parsed, plus entries for paths that are not guides."""
    files, problems = discover(paths)
    for problem in problems:
        yield GuideFile(Path(problem.loc.path), None, (problem,))
    for path in files:
        yield read_guide(path)
