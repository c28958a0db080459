"""Which packages a command works on: one rule for ``check``, ``list``, ``build``, ``preview``
and ``push``, so that ``check --strict`` passing means ``build`` will too.

The rule: with no paths, the default source folder (``./deck_source``, else the sample shipped
with guidedeck). A folder holding a ``decks.yaml`` is built as that file describes; any other
folder gives one package per guide found in it, and a file one package of its own. Packages
named after their guides get distinct file names when two guides share a name (``en/guide.md``
and ``de/guide.md``); two packages that would still write one file are refused, naming both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from guidedeck.config import (
    CONFIG_NAME,
    ConfigError,
    PackageConfig,
    default_package,
    load,
    short_name,
)
from guidedeck.diagnostics import Diagnostic
from guidedeck.guides import discover


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a command works on, and why anything was refused."""

    packages: tuple[PackageConfig, ...]
    problems: tuple[Diagnostic, ...]
    roots: tuple[Path, ...]
    """The folders and files the inputs came from (searched for locks of guides that are gone)."""

    @property
    def guides(self) -> list[Path]:
        """Every guide of every package, once, in order."""
        return list(dict.fromkeys(p for c in self.packages for p in c.guides))


def default_source() -> Path:
    """``./deck_source`` when there is one, else the sample shipped with guidedeck."""
    from guidedeck.resources import data_dir

    local = Path("deck_source")
    return local if local.is_dir() else data_dir("deck_source")


def resolve(paths: Sequence[Path], dialect: str | None = None) -> Inputs:
    """The packages for ``paths`` (or the default source folder), by the one rule above;
    ``dialect`` (``--dialect``) overrides every package's."""
    roots = tuple(paths) or (default_source(),)
    packages: list[PackageConfig] = []
    problems: list[Diagnostic] = []
    loose: list[Path] = []
    for root in roots:
        config_file = root / CONFIG_NAME
        if root.is_dir() and config_file.is_file():
            try:
                config = load(config_file)
            except ConfigError as exc:
                problems.extend(exc.diagnostics)
                continue
            packages.extend(config.packages)
        else:
            loose.append(root)
    if loose:
        files, found = discover(loose)
        problems.extend(found)
        scanned = {f for root in loose if root.is_dir() for f in files if f.is_relative_to(root)}
        made = [
            replace(default_package(f), scanned=f in scanned, root=_root_of(f, loose))
            for f in files
        ]
        packages.extend(_named_apart(made))
    problems.extend(_collisions(packages))
    if dialect is not None:
        packages = [replace(p, dialect=dialect) for p in packages]
    return Inputs(tuple(packages), tuple(problems), roots)


def _root_of(guide: Path, roots: Sequence[Path]) -> Path:
    """The folder given on the command line that holds ``guide`` (else its own folder)."""
    for root in roots:
        if root.is_dir() and guide.is_relative_to(root):
            return root
    return guide.parent


def _named_apart(packages: list[PackageConfig]) -> list[PackageConfig]:
    """Give packages named after their guides distinct file names where two share one."""
    groups: dict[str, list[int]] = defaultdict(list)
    for n, package in enumerate(packages):
        groups[package.output.lower()].append(n)
    out = list(packages)
    for members in groups.values():
        if len(members) < 2:
            continue
        guides = [packages[n].guides[0].resolve() for n in members]
        common = Path(*_common_parts([g.parent.parts for g in guides]))
        for n, guide in zip(members, guides, strict=True):
            relative = guide.relative_to(common)
            words = [*relative.parent.parts, relative.stem]
            stem = "-".join(words)
            if sum(1 for g in guides if g.with_suffix("") == guide.with_suffix("")) > 1:
                stem += "-" + guide.suffix.lstrip(".")  # a.md beside a.mdx
            out[n] = replace(packages[n], output=f"{short_name(stem)}.apkg")
    return out


def _common_parts(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    first = parts[0]
    n = 0
    while n < len(first) and all(len(p) > n and p[n] == first[n] for p in parts):
        n += 1
    return first[:n]


def _collisions(packages: Sequence[PackageConfig]) -> list[Diagnostic]:
    """Two packages writing one file: refused, naming both (nothing is overwritten)."""
    seen: dict[str, PackageConfig] = {}
    problems = []
    for package in packages:
        key = package.output.lower()  # one file on case-insensitive file systems
        other = seen.get(key)
        if other is None:
            seen[key] = package
            continue
        names = " and ".join(str(c.guides[0]) for c in (other, package))
        problems.append(
            Diagnostic.error(
                package.loc,
                f"{names} would both be written to {package.output}; give one of them "
                "another 'output' in decks.yaml",
            )
        )
    return problems


__all__ = ["Inputs", "default_source", "resolve"]
