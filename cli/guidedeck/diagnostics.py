"""Source locations and the one diagnostic type every stage reports problems with."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import click


@dataclass(frozen=True, slots=True, order=True)
class SourceLoc:
    """A place in a guide: the file as given by the user and a 1-based line and column."""

    path: str
    """The guide's path, as the user named it (relative paths stay relative)."""
    line: int
    """1-based line number."""
    col: int = 1
    """1-based column number."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Severity(str, enum.Enum):
    """How bad a problem is: errors fail a build, warnings only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    """Not a problem: what the author chose (a part left out), said so it is never a surprise."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a guide, printed as ``path:line:col: severity: message``."""

    loc: SourceLoc
    severity: Severity
    message: str

    def __str__(self) -> str:
        loc = self.loc
        return f"{loc.path}:{loc.line}:{loc.col}: {self.severity.value}: {self.message}"

    @classmethod
    def error(cls, loc: SourceLoc, message: str) -> Diagnostic:
        """An error: the block at ``loc`` is skipped and the command exits 1."""
        return cls(loc, Severity.ERROR, message)

    @classmethod
    def warning(cls, loc: SourceLoc, message: str) -> Diagnostic:
        """A warning: reported, fatal only with ``--strict``."""
        return cls(loc, Severity.WARNING, message)


def note(loc: SourceLoc, message: str) -> Diagnostic:
    """A note: said, never fatal (not even with ``--strict``)."""
    return Diagnostic(loc, Severity.NOTE, message)


def count(diagnostics: Iterable[Diagnostic], severity: Severity) -> int:
    """How many of ``diagnostics`` have ``severity``."""
    return sum(1 for d in diagnostics if d.severity is severity)


class GuideError(click.ClickException):
    """Problems that stop a command; click prints the message and exits with 1."""

    exit_code = 1
