"""``guidedeck init``: a first ``decks.yaml`` for a folder of guides, and the ``.gitattributes``
line that lets git merge lock files. Nothing that exists is overwritten."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from guidedeck.config import CONFIG_NAME, DEFAULT_PREFIX, PackageConfig, all_kinds
from guidedeck.inputs import resolve

LOCK_MERGE = "*.guidedeck.lock merge=union"
"""Git merges lock files line by line: both sides' notes are kept (README, "Git, renames")."""


@dataclass(frozen=True, slots=True)
class Started:
    """What ``init`` did in a folder."""

    config: Path
    wrote_config: bool
    attributes: Path
    wrote_attributes: bool
    packages: int


def init(folder: Path) -> Started:
    """Write ``folder/decks.yaml`` (unless there is one) for the packages the folder builds
    into today, and add the lock files' merge line to ``folder/.gitattributes`` (if missing)."""
    config = folder / CONFIG_NAME
    packages: tuple[PackageConfig, ...] = ()
    wrote = False
    if not config.exists():
        found = resolve([folder]).packages
        packages = tuple(p for p in found if _makes_cards(p))
        left_out = [g for p in found if p not in packages for g in p.guides]
        _write_new(config, starter_config(packages, folder, left_out))
        wrote = True
    attributes = folder / ".gitattributes"
    existing = attributes.read_text(encoding="utf-8") if attributes.is_file() else ""
    added = LOCK_MERGE not in existing.splitlines()
    if added:
        text = existing + ("" if not existing or existing.endswith("\n") else "\n")
        attributes.write_text(text + LOCK_MERGE + "\n", encoding="utf-8")
    return Started(config, wrote, attributes, added, len(packages))


def _makes_cards(package: PackageConfig) -> bool:
    """Whether any guide of ``package`` makes a card: a guide listed in decks.yaml that makes
    none stops the build, where a folder scan only notes it."""
    from guidedeck.guides import read_guide

    for guide in package.guides:
        result = read_guide(guide, package.dialect).result
        if result is not None and result.guide.cards:
            return True
    return False


def _write_new(path: Path, text: str) -> None:
    # "x": never over a file that appeared meanwhile
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)


def starter_config(
    packages: tuple[PackageConfig, ...], folder: Path, left_out: list[Path] | None = None
) -> str:
    """``decks.yaml`` text that builds ``packages`` as the folder does without one, with a
    comment on every key (and the Markdown files ``left_out``, which make no cards, named)."""
    kinds = ", ".join(k.value for k in all_kinds())
    lines = [
        "# What `guidedeck build` builds in this folder: one .apkg per package (see the README).",
        "version: 1",
        "",
        "defaults:",
        f"  deck_prefix: {json.dumps(DEFAULT_PREFIX)}  # decks: <deck_prefix>::<guide title>",
        f"  kinds: [{kinds}]  # the card kinds made",
        "  tags: []  # tags on every note, e.g. [interview]",
        "  quiz: {shuffle: false}  # true: quiz options shuffled on each review",
        "  # dialect: details  # the convention the guides follow (default: detected per file)",
        '  # source_url: "https://github.com/OWNER/REPO/blob/main/{path}#{anchor}"  # links back',
        "  # preset: {new_per_day: 20, reviews_per_day: 200, desired_retention: 0.9, "
        "max_interval: 365}  # deck options, set by push",
        "",
        "packages:",
    ]
    for package in packages:
        guides = ", ".join(json.dumps(g.relative_to(folder).as_posix()) for g in package.guides)
        lines += [
            f"  - guides: [{guides}]  # paths relative to this file",
            f"    output: {json.dumps(package.output)}  # the .apkg written into --out",
        ]
        if package.deck:
            lines.append(f"    deck: {json.dumps(package.deck)}  # one deck for all its guides")
        else:
            lines.append('    # deck: "Interview Guides::Topic"  # one deck for all its guides')
        lines += [
            "    # kinds: [quiz, contrast]  # only these card kinds",
            "    # tags: [topic]  # added to the default tags",
        ]
    if not packages:
        lines += ["  []  # no guides found yet: add entries as `- guides: [guide.md]`"]
    if left_out:
        lines += ["", "# Markdown files here that make no cards (not listed):"]
        lines += [f"#   {g.relative_to(folder).as_posix()}" for g in left_out]
    return "\n".join(lines) + "\n"
