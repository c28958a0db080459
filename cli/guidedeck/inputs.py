"""Which packages a command works on: one rule for ``check``, ``list``, ``build``, ``preview``
and ``push``, so that ``check --strict`` passing means ``build`` will too.

The rule: with no paths, the folder's own ``./decks.yaml``, else ``./deck_source/``, else the
sample shipped with guidedeck (the command says which). A folder holding a ``decks.yaml`` is
built as that file describes; any other folder gives one package per guide found in it, and a
file one package of its own. Packages named after their guides get distinct file names when two
guides share a name (``en/guide.md`` and ``de/guide.md``); two packages that would still write
one file are refused, naming both.
"""

from __future__ import annotations

import re
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
from guidedeck.diagnostics import Diagnostic, SourceLoc
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


@dataclass(frozen=True, slots=True)
class DefaultSource:
    """What a command works on when it is given no paths, and how to say so."""

    path: Path
    said: str


def default_source() -> DefaultSource:
    """``./decks.yaml`` when there is one, else ``./deck_source/``, else guidedeck's sample."""
    from guidedeck.resources import data_dir

    if Path(CONFIG_NAME).is_file():
        return DefaultSource(Path(), f"./{CONFIG_NAME}")
    if Path("deck_source").is_dir():
        return DefaultSource(Path("deck_source"), "./deck_source/")
    return DefaultSource(
        data_dir("deck_source"),
        f"guidedeck's sample guide (no ./{CONFIG_NAME} or ./deck_source/ here)",
    )


def resolve(paths: Sequence[Path], dialect: str | None = None) -> Inputs:
    """The packages for ``paths`` (or the default source folder), by the one rule above;
    ``dialect`` (``--dialect``) overrides every package's."""
    roots = tuple(paths) or (default_source().path,)
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
        grouped = collections_of([f for f in files if f in scanned])
        made = [
            replace(default_package(f), scanned=f in scanned, root=_root_of(f, loose))
            for f in files
            if f not in grouped
        ]
        made += [_collection_package(folder, members, loose) for folder, members in
                 _members(grouped).items()]  # fmt: skip
        packages.extend(_named_apart(made))
    problems.extend(_collisions(packages))
    if dialect is not None:
        packages = [replace(p, dialect=dialect) for p in packages]
    return Inputs(tuple(packages), tuple(problems), roots)


_ANSWER_HEADING = re.compile(r"^#{2,6}\s*(?:the\s+)?(?:answer|solution)\b", re.I | re.M)
_TITLE = re.compile(r"^title\s*:", re.IGNORECASE | re.MULTILINE)
_SECTIONS = re.compile(r"^###\s+(?:question\s+\d|quick\s+check)", re.IGNORECASE | re.MULTILINE)


def _looks_like_one_question(text: str) -> bool:
    """What a file of one question shows (a front-matter title, or one answer heading), and no
    question sections or quick checks of this family's guides."""
    if _SECTIONS.search(text):
        return False
    body = text.lstrip("\ufeff")
    if body.startswith("---"):
        end = body.find("\n---", 3)
        if end > 0 and _TITLE.search(body[3:end]):
            return True
    return len(_ANSWER_HEADING.findall(text)) == 1


MAX_QUESTION_FILE = 64 * 1024
"""A file of one question is small: larger files are guides of their own (never parsed here)."""


def collections_of(files: Sequence[Path]) -> dict[Path, Path]:
    """Files of one question each that make a collection, by file -> its collection's folder.

    A collection is a folder of at least two such files (``questions/*.md``), or a folder of
    at least two folders holding one such file each (``questions/<slug>/en-US.mdx``): one
    deck, not one deck of one card per file. A folder counts only when every guide in it is
    one question (a folder of guides is left alone); its README (an index, an introduction)
    goes with it."""
    out: dict[Path, Path] = {}
    for folder, members in _candidates(files).items():
        if len(members) > 1 and _all_one_question(members):
            readmes = [f for f in files if f.parent == folder and f.stem.lower() == "readme"]
            out.update((f, folder) for f in [*members, *readmes])
    return out


def _candidates(files: Sequence[Path]) -> dict[Path, list[Path]]:
    """The files of each folder that may be a collection (README files aside)."""
    by_parent: dict[Path, list[Path]] = defaultdict(list)
    for f in files:
        if f.stem.lower() != "readme":
            by_parent[f.parent].append(f)
    candidates: dict[Path, list[Path]] = defaultdict(list)
    for parent, members in by_parent.items():
        candidates[parent if len(members) > 1 else parent.parent].extend(members)
    return candidates


def _all_one_question(members: list[Path]) -> bool:
    """Whether every file holds one question: told without the parser first, so a rebuild
    from the cache never loads it, then by parsing."""
    texts: list[str] = []
    for member in members:  # the first file that is not one question ends the look
        text = _small_text(member)
        if text is None or not _looks_like_one_question(text):
            return False
        texts.append(text)
    return all(_one_question(f, t) for f, t in zip(members, texts, strict=True))


def _small_text(path: Path) -> str | None:
    """A small file's text (None: too large for one question, unreadable or not UTF-8)."""
    from guidedeck.guides import read_bounded

    try:
        if path.stat().st_size > MAX_QUESTION_FILE:
            return None  # told by its size: not opened
        return read_bounded(path, MAX_QUESTION_FILE).decode("utf-8")
    except (OSError, ValueError):
        return None


def _one_question(path: Path, text: str) -> bool:
    """Whether a guide file holds one question, answered (its tables' facts may go with it)."""
    from guidedeck.parse import parse

    guide = parse(text, str(path)).guide
    questions = [s for s in guide.scenarios if s.part == 0]
    return len(questions) + len(guide.quizzes) == 1


def _members(grouped: dict[Path, Path]) -> dict[Path, list[Path]]:
    out: dict[Path, list[Path]] = defaultdict(list)
    for f, folder in grouped.items():
        out[folder].append(f)
    return out


def _collection_package(folder: Path, members: list[Path], roots: Sequence[Path]) -> PackageConfig:
    """One deck for a collection's folder, named by its README's title, else the folder."""
    base = default_package(members[0])
    title = _readme_title(folder) or folder.resolve().name.replace("-", " ").replace("_", " ")
    return replace(
        base, output=f"{short_name(folder.resolve().name or 'questions')}.apkg",
        guides=tuple(sorted(members)), deck=f"{base.prefix}::{title.strip() or 'Questions'}",
        loc=SourceLoc(str(folder), 1), scanned=True, root=_root_of(members[0], roots),
    )  # fmt: skip


def _readme_title(folder: Path) -> str:
    """The ``# Title`` of the folder's README, if it has one."""
    from guidedeck.guides import read_bounded

    for name in ("README.md", "readme.md", "README.mdx"):
        try:
            text = read_bounded(folder / name, MAX_QUESTION_FILE).decode("utf-8")
        except (OSError, ValueError):
            continue
        found = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
        return found.group(1).strip() if found else ""
    return ""


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
