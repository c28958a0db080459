"""What a card kind is: one record that every stage of the pipeline dispatches on.

markdown-it-py's renderer looks a token's type up in its rules; guidedeck's stages look a card's
kind up here. A kind's record names its model class, its notetype (ids fixed forever), its
templates, the fields that hold the card's own words, and the functions that render, key, list
and summarise its cards. Adding a kind is registering one record (and its own modules).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guidedeck.kinds import CardKind
from guidedeck.slugs import slugify

KEY_NAME_CHARS = 48
"""How much of a quiz's question (a contrast's mistake) names it in its key."""


def key_name(text: str) -> str:
    """A card's name in its key, from its own words: "" when they name nothing."""
    name = slugify(text)[:KEY_NAME_CHARS].strip("-")
    return "" if name == "guide" else name


@dataclass(frozen=True, slots=True)
class NotetypeSpec:
    """What identifies a notetype to Anki: never change any of it once released."""

    kind: CardKind
    model_id: int
    name: str
    fields: tuple[str, ...]
    sort_field: str
    """Shown in Anki's browser; the first field (``ID``) is only there to be unique."""
    template: str = "Card"

    def field_id(self, ordinal: int) -> int:
        """Fixed id of field ``ordinal`` (Anki 2.1.67+ uses them to merge notetypes)."""
        return self.model_id * 1000 + 1 + ordinal

    @property
    def template_id(self) -> int:
        """Fixed id of the one template."""
        return self.model_id * 1000 + 500


Fields = Callable[[Any, Any, bool], dict[str, str]]
"""``fields(card, guide, shuffle)``: the kind's own note fields (HTML; not ``ID``, ``Guide``,
``Source``, which every kind shares)."""
KeyName = Callable[[Any], str]
"""``key_name(card)``: what names the card inside its question (its key's last part); "" when
only its place names it."""


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One card kind, as every stage needs it."""

    kind: CardKind
    model: type
    """The card model class (a frozen dataclass with ``loc``, ``section`` and ``kind``)."""
    notetype: NotetypeSpec
    templates: Path
    """Folder of ``front.html`` and ``back.html`` (and the scripts they include)."""
    content_fields: tuple[str, ...]
    """The fields that hold the card's own words: not its guide, heading, file or neighbours.
    Content hashes and similarity are made from them."""
    fields: Fields
    key_name: KeyName
    as_dict: Callable[[Any], dict[str, Any]]
    """The card's own content for ``list --format json``."""
    summary: Callable[[Any], str]
    """What the card asks, as one line of text (``list``)."""
    keyed_by_section: bool = False
    """Its key is its question section alone (one card per section)."""
    shared_words: re.Pattern[str] | None = None
    """Text shared by every card of a group (a table's headers), left out of similarity."""

    @property
    def name(self) -> str:
        """The kind's name, as lock files, tags and ``decks.yaml`` write it."""
        return self.kind.value


class Registry(Mapping[str, KindSpec]):
    """The card kinds, in registration order (the order of summary columns and previews)."""

    def __init__(self) -> None:
        self._kinds: dict[str, KindSpec] = {}
        self._models: dict[int, KindSpec] = {}

    def add(self, spec: KindSpec) -> None:
        """Register ``spec``; a kind name or notetype id may be registered once only."""
        if spec.name in self._kinds or spec.notetype.model_id in self._models:
            raise ValueError(f"card kind {spec.name!r} (or its notetype id) is registered already")
        self._kinds[spec.name] = spec
        self._models[spec.notetype.model_id] = spec

    def replace(self, spec: KindSpec) -> KindSpec:
        """Put ``spec`` in the place of the kind of its name (a new notetype version); return
        the record it replaced."""
        old = self._kinds[spec.name]
        del self._models[old.notetype.model_id]
        self._kinds[spec.name] = spec
        self._models[spec.notetype.model_id] = spec
        return old

    def remove(self, name: str) -> None:
        """Unregister a kind (for tests that add one of their own)."""
        spec = self._kinds.pop(name)
        del self._models[spec.notetype.model_id]

    def __getitem__(self, name: str) -> KindSpec:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def kinds(self) -> tuple[CardKind, ...]:
        """Every registered kind, in order."""
        return tuple(spec.kind for spec in self._kinds.values())

    def of(self, card: Any) -> KindSpec:
        """The record of ``card``'s kind."""
        return self._kinds[card.kind]

    def by_model(self, model_id: int) -> KindSpec | None:
        """The kind whose notetype has this id (None: not one of guidedeck's)."""
        return self._models.get(model_id)

    def by_notetype_name(self, name: str) -> KindSpec | None:
        """The kind whose notetype has this name (AnkiConnect names notetypes, never ids)."""
        return next((s for s in self._kinds.values() if s.notetype.name == name), None)


__all__ = [
    "KEY_NAME_CHARS",
    "Fields",
    "KeyName",
    "KindSpec",
    "NotetypeSpec",
    "Registry",
    "key_name",
]
