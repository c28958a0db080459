"""Who a note is: stable keys from a card's place in its guide, never from its content.

A key names a card by guide, kind, question section and position (for a table row: its heading and
first cell), so editing a card's text keeps its key and Anki updates the note the user already has.
GUIDs and note ids are derived from the key.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from guidedeck.models import Card, Fact, Guide, Scenario
from guidedeck.parse.extract import slugify

_GUID_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
NOTE_ID_BASE = 1_500_000_000_000
"""Note ids look like Anki's (milliseconds since 1970) and stay below JavaScript's 2**53."""


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def guid_for_key(key: str) -> str:
    """A 10-character Anki GUID derived from a stable key (not from any field)."""
    value = _digest("guid:" + key)
    chars = []
    for _ in range(10):
        value, rest = divmod(value, len(_GUID_ALPHABET))
        chars.append(_GUID_ALPHABET[rest])
    return "".join(chars)


def note_id_for_key(key: str) -> int:
    """A note id derived from a stable key, in Anki's usual range."""
    return NOTE_ID_BASE + _digest("nid:" + key) % (2**40)


def _section_slug(card: Card) -> str:
    section = card.section
    return slugify(section.title)[:60] if section is not None else "intro"


def card_keys(guide: Guide, cards: Sequence[Card]) -> list[str]:
    """Unique, stable keys for ``cards`` (all from ``guide``), in the same order."""
    positions: Counter[tuple[str, str]] = Counter()
    keys: list[str] = []
    for card in cards:
        kind = card.kind.value
        section = _section_slug(card)
        if isinstance(card, Scenario):
            base = f"{guide.slug}/{kind}/{section}"
        elif isinstance(card, Fact):
            row_key = slugify(card.cells[0])[:60]
            base = f"{guide.slug}/{kind}/{section}/{slugify(card.context)[:60]}/{row_key}"
        else:
            positions[(kind, section)] += 1
            base = f"{guide.slug}/{kind}/{section}/{positions[(kind, section)]}"
        keys.append(base)
    # Repeated keys (two rows with the same first cell under one heading) get #2, #3 ...
    seen: Counter[str] = Counter()
    unique = []
    for key in keys:
        seen[key] += 1
        unique.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return unique
