"""Cards as plain data (for ``guidedeck list --format json``) and as one-line summaries."""

from __future__ import annotations

from typing import Any

from guidedeck.cards import KINDS
from guidedeck.models import Card


def card_dict(card: Card) -> dict[str, Any]:
    """Kind, ``path:line`` source, the question section, and the card's content fields."""
    section = card.section
    data: dict[str, Any] = {
        "kind": card.kind.value,
        "source": str(card.loc),
        "section": section.title if section is not None else None,
    }
    data.update(KINDS.of(card).as_dict(card))
    return data


def summary(card: Card, width: int = 80) -> str:
    """One line saying what the card asks."""
    line = " ".join(KINDS.of(card).summary(card).split())
    return line if len(line) <= width else line[: width - 1] + "\u2026"
