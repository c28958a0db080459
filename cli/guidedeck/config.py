"""``decks.yaml``: which guides go into which package, deck names, card kinds and extra tags.

Every problem is collected with the YAML line it sits on and reported together, as mkdocs does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.guides import read_bounded
from guidedeck.models import CardKind
from guidedeck.presets import OPTIONS as PRESET_OPTIONS
from guidedeck.presets import Preset

DEFAULT_PREFIX = "Interview Guides"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
CONFIG_NAME = "decks.yaml"
DEFAULT_KEYS = ("deck_prefix", "kinds", "tags", "quiz", "dialect", "source_url", "preset")
"""The keys ``defaults:`` may hold."""
PACKAGE_KEYS = ("guides", "output", "deck", "kinds", "tags", "quiz", "dialect", "source_url",
                "preset")  # fmt: skip
"""The keys a package may hold."""
MAX_CONFIG_BYTES = 1024 * 1024
NAME_BYTES = 120
"""Longest file name stem guidedeck makes (deck, lock, preview page); longer ones are cut and
given a hash of the whole name, so they stay distinct and stable."""


def short_name(stem: str, limit: int = NAME_BYTES) -> str:
    """``stem``, or its start plus a stable hash of all of it when it is too long for a file
    name (most file systems allow 255 bytes, and suffixes are added)."""
    if len(stem.encode("utf-8")) <= limit:
        return stem
    digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:10]
    cut = stem.encode("utf-8")[: limit - 11].decode("utf-8", "ignore").rstrip("-. ")
    return f"{cut}-{digest}"


def deck_name_problem(name: str) -> str | None:
    """Why Anki would mangle ``name`` (an empty part between ``::`` becomes "blank"), or None."""
    parts = name.split("::")
    if any(not part.strip() for part in parts):
        return f"deck name {name!r} has an empty part between '::'; Anki would name it 'blank'"
    return None


def all_kinds() -> tuple[CardKind, ...]:
    """Every registered card kind: what a package makes unless its ``kinds`` say otherwise."""
    from guidedeck.cards import KINDS

    return KINDS.kinds()


@dataclass(frozen=True, slots=True)
class PackageConfig:
    """One ``.apkg`` to write."""

    output: str
    """File name inside the output folder, e.g. ``aws.apkg``."""
    guides: tuple[Path, ...]
    deck: str | None
    """Deck name for all its guides; None: ``<prefix>::<guide title>`` per guide."""
    kinds: tuple[CardKind, ...]
    tags: tuple[str, ...]
    loc: SourceLoc
    prefix: str = DEFAULT_PREFIX
    """Deck name prefix (its decks.yaml's ``deck_prefix``): a package's deck names follow from
    its own configuration alone, whatever else a command builds."""
    shuffle: bool = False
    """Quiz options are shuffled on each review (``quiz: {shuffle: true}``)."""
    dialect: str = "auto"
    """Which convention its guides are written in (``auto``: detected per file)."""
    scanned: bool = False
    """Found by scanning a folder: a guide that makes no cards is reported, not an error."""
    root: Path | None = None
    """The folder its guides' images must be in: that of its decks.yaml, or the folder given
    on the command line (None: each guide's own folder)."""
    preset: Preset | None = None
    """``preset:``: deck options ``push`` applies (an .apkg cannot carry them)."""
    source_url: str | None = None
    """``source_url``: where a card's source links, ``{path}`` (the guide's path from the
    folder of decks.yaml) and ``{anchor}`` (its section's heading anchor) filled in."""

    def link_of(self, guide: Path) -> str | None:
        """The link of ``guide``'s cards with ``{path}`` filled in (``{anchor}`` still to be)."""
        if self.source_url is None or self.root is None:
            return None
        from urllib.parse import quote

        inside = guide.is_relative_to(self.root)
        where = guide.relative_to(self.root).as_posix() if inside else guide.name
        return self.source_url.replace("{path}", quote(where))


@dataclass(frozen=True, slots=True)
class DeckConfig:
    """The whole of ``decks.yaml``."""

    path: Path
    deck_prefix: str
    packages: tuple[PackageConfig, ...] = field(default=())


class ConfigError(Exception):
    """``decks.yaml`` is unusable; ``diagnostics`` says every reason, each with its line."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


def default_package(
    guide: Path, prefix: str = DEFAULT_PREFIX, kinds: tuple[CardKind, ...] | None = None
) -> PackageConfig:
    """The package for a guide named on the command line: ``<stem>.apkg``, all kinds."""
    stem = guide.stem
    if stem.lower() == "readme" and guide.resolve().parent.name:
        stem = guide.resolve().parent.name  # topic/README.md makes topic.apkg
    return PackageConfig(
        f"{short_name(stem)}.apkg", (guide,), None, kinds or all_kinds(), (),
        SourceLoc(str(guide), 1), prefix,
    )  # fmt: skip


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Diagnostic] = []

    def loc(self, node: yaml.Node) -> SourceLoc:
        mark = node.start_mark
        return SourceLoc(str(self.path), mark.line + 1, mark.column + 1)

    def fail(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Diagnostic.error(self.loc(node), message))

    def mapping(self, node: yaml.Node, what: str, keys: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping")
            return {}
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in keys:
                self.fail(
                    key_node, f"unknown key {key!r} in {what} (known: {', '.join(sorted(keys))})"
                )
            elif key in out:
                self.fail(key_node, f"{key!r} given twice in {what}")
            else:
                out[key] = value
        return out

    def string(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str") and node.value.strip():
            value = str(node.value).strip()
            if any("\ud800" <= c <= "\udfff" for c in value):
                self.fail(node, f"{what} holds half of a character (a lone surrogate escape)")
                return None
            return value
        self.fail(node, f"{what} must be a non-empty string")
        return None

    def strings(self, node: yaml.Node, what: str) -> list[str]:
        if isinstance(node, yaml.ScalarNode):
            one = self.string(node, what)
            return [one] if one else []
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list of strings")
            return []
        return [s for item in node.value if (s := self.string(item, f"each of {what}"))]

    def quiz(self, node: yaml.Node, default: bool) -> bool:
        """``quiz: {shuffle: true}``: whether quiz options are shuffled on each review."""
        entry = self.mapping(node, "quiz", {"shuffle"})
        if "shuffle" not in entry:
            return default
        value = entry["shuffle"]
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":bool"):
            return str(value.value).lower() in ("true", "yes", "on")
        self.fail(value, "shuffle must be true or false")
        return default

    def dialect(self, node: yaml.Node) -> str | None:
        """``dialect: details``: the convention its guides are written in."""
        from guidedeck.parse.dialects import NAMES

        name = self.string(node, "dialect")
        if name is not None and name not in NAMES:
            self.fail(node, f"unknown dialect {name!r} (known: {', '.join(NAMES)})")
            return None
        return name

    def preset(self, node: yaml.Node) -> Preset | None:
        """``preset: {new_per_day: 20, ...}``: deck options ``push`` applies."""
        entry = self.mapping(node, "preset", set(PRESET_OPTIONS))
        values: dict[str, int | float] = {}
        for key, item in entry.items():
            option = PRESET_OPTIONS[key]
            try:
                value = option.kind(item.value) if isinstance(item, yaml.ScalarNode) else None
            except ValueError:
                value = None
            if value is None or not option.low <= value <= option.high:
                low, high = (option.kind(option.low), option.kind(option.high))
                self.fail(item, f"preset {key} must be a number from {low} to {high}")
                continue
            values[key] = value
        return Preset(**values) if values else None  # type: ignore[arg-type]

    def source_url(self, node: yaml.Node) -> str | None:
        """``source_url: https://host/{path}#{anchor}``: where cards link back to the guide."""
        url = self.string(node, "source_url")
        if url is None:
            return None
        if not url.startswith(("https://", "http://")):
            self.fail(node, "source_url must start with https:// (or http://)")
            return None
        unknown = set(_PLACEHOLDER.findall(url)) - {"{path}", "{anchor}"}
        if unknown or any(c in url for c in '"<>\n'):
            self.fail(node, f"source_url may hold only {{path}} and {{anchor}} (found "
                      f"{', '.join(sorted(unknown)) or 'a quote or angle bracket'})")  # fmt: skip
            return None
        return url

    def kinds(self, node: yaml.Node) -> tuple[CardKind, ...]:
        known = {k.value: k for k in all_kinds()}
        if not isinstance(node, (yaml.SequenceNode, yaml.ScalarNode)):
            self.fail(node, "kinds must be a list of card kinds")
            return ()
        out = []
        for item in _items(node):
            name = self.string(item, "each of kinds")
            if name is None:
                continue
            if name in known:
                out.append(known[name])
            else:
                self.fail(item, f"unknown card kind {name!r} (known: {', '.join(known)})")
        return tuple(out)


def _items(node: yaml.Node) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else [node]


def load(path: Path) -> DeckConfig:
    """Read and validate ``decks.yaml``; raise :class:`ConfigError` listing every problem."""
    reader = _Reader(path)
    try:
        root = yaml.compose(read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = (
            SourceLoc(str(path), mark.line + 1, mark.column + 1)
            if mark
            else SourceLoc(str(path), 1)
        )
        raise ConfigError([Diagnostic.error(loc, f"not valid YAML: {exc.problem}")]) from None
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ConfigError(
            [Diagnostic.error(SourceLoc(str(path), 1), f"cannot read: {exc}")]
        ) from None
    if root is None:
        raise ConfigError([Diagnostic.error(SourceLoc(str(path), 1), "decks.yaml is empty")])

    top = reader.mapping(root, "decks.yaml", {"version", "defaults", "packages"})
    if "version" in top and getattr(top["version"], "value", None) != "1":
        reader.fail(top["version"], "only version: 1 is understood")
    prefix = DEFAULT_PREFIX
    kinds: tuple[CardKind, ...] = all_kinds()
    tags: tuple[str, ...] = ()
    shuffle = False
    dialect = "auto"
    source_url: str | None = None
    preset: Preset | None = None
    if "defaults" in top:
        defaults = reader.mapping(top["defaults"], "defaults", set(DEFAULT_KEYS))
        if "deck_prefix" in defaults:
            prefix = reader.string(defaults["deck_prefix"], "deck_prefix") or prefix
            problem = deck_name_problem(prefix)
            if problem:
                reader.fail(defaults["deck_prefix"], problem)
        if "kinds" in defaults:
            kinds = reader.kinds(defaults["kinds"])
        if "tags" in defaults:
            tags = tuple(reader.strings(defaults["tags"], "tags"))
        if "quiz" in defaults:
            shuffle = reader.quiz(defaults["quiz"], shuffle)
        if "dialect" in defaults:
            dialect = reader.dialect(defaults["dialect"]) or dialect
        if "source_url" in defaults:
            source_url = reader.source_url(defaults["source_url"])
        if "preset" in defaults:
            preset = reader.preset(defaults["preset"])

    packages: list[PackageConfig] = []
    outputs: dict[str, yaml.Node] = {}
    if "packages" not in top:
        reader.fail(root, "decks.yaml needs a 'packages' list")
    elif not isinstance(top["packages"], yaml.SequenceNode) or not top["packages"].value:
        reader.fail(top["packages"], "packages must be a non-empty list")
    else:
        for node in top["packages"].value:
            entry = reader.mapping(
                node,
                "a package",
                set(PACKAGE_KEYS),
            )
            if not entry:
                continue
            guide_names = reader.strings(entry["guides"], "guides") if "guides" in entry else []
            if not guide_names:
                reader.fail(node, "a package needs 'guides': one or more guide files")
                continue
            guides = tuple(path.parent / name for name in guide_names)
            listed: dict[Path, str] = {}
            for item in _items(entry["guides"]):
                name = item.value if isinstance(item, yaml.ScalarNode) else None
                if not isinstance(name, str) or not name:
                    continue
                where = path.parent / name
                if not where.resolve().is_relative_to(path.parent.resolve()):
                    reader.fail(item, f"guide {name!r} is outside the folder of decks.yaml "
                                "(guidedeck reads only inside it)")  # fmt: skip
                elif not where.exists():
                    reader.fail(item, f"guide {name!r} not found beside decks.yaml")
                elif not where.is_file():
                    reader.fail(item, f"guide {name!r} is not a regular file")
                key = where.resolve()
                if key in listed:
                    reader.fail(item, f"guide {name!r} is listed twice (also as {listed[key]!r})")
                listed.setdefault(key, name)
            output = f"{Path(guide_names[0]).stem}.apkg"
            if "output" in entry:
                output = reader.string(entry["output"], "output") or output
                if not output.endswith(".apkg") or "/" in output or "\\" in output:
                    reader.fail(entry["output"], "output must be a file name ending in .apkg")
            if output in outputs:
                reader.fail(node, f"two packages write {output!r}")
            outputs[output] = node
            deck = reader.string(entry["deck"], "deck") if "deck" in entry else None
            if deck is not None and deck_name_problem(deck):
                reader.fail(entry["deck"], deck_name_problem(deck) or "")
            packages.append(
                PackageConfig(
                    output,
                    guides,
                    deck,
                    reader.kinds(entry["kinds"]) if "kinds" in entry else kinds,
                    (*tags, *(reader.strings(entry["tags"], "tags") if "tags" in entry else [])),
                    reader.loc(node),
                    prefix,
                    root=path.parent,
                    shuffle=reader.quiz(entry["quiz"], shuffle) if "quiz" in entry else shuffle,
                    dialect=(reader.dialect(entry["dialect"]) if "dialect" in entry else None)
                    or dialect,
                    source_url=reader.source_url(entry["source_url"])
                    if "source_url" in entry
                    else source_url,
                    preset=reader.preset(entry["preset"]) if "preset" in entry else preset,
                )
            )
    if reader.problems:
        raise ConfigError(sorted(reader.problems, key=lambda d: (d.loc.line, d.loc.col)))
    return DeckConfig(path, prefix, tuple(packages))
