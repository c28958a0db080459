"""Card kinds by name, in a module light enough for the command line to import at start-up.

A kind is only a name here; what a kind *is* (its model, notetype, renderer, key, list form)
is the registry's (:mod:`guidedeck.cards`). The name is an open string type rather than an
enumeration so that a kind is added by registering it, without editing this module.
"""

from __future__ import annotations

from typing import ClassVar


class CardKind(str):
    """The name of a card kind (``"quiz"``); compare with ``==``, never ``is``."""

    __slots__ = ()

    QUIZ: ClassVar[CardKind]
    FACT: ClassVar[CardKind]
    CONTRAST: ClassVar[CardKind]
    SCENARIO: ClassVar[CardKind]

    @property
    def value(self) -> str:
        """The plain name (as lock files and tags write it)."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"CardKind({str.__str__(self)!r})"

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (CardKind, (str.__str__(self),))


CardKind.QUIZ = CardKind("quiz")
CardKind.FACT = CardKind("fact")
CardKind.CONTRAST = CardKind("contrast")
CardKind.SCENARIO = CardKind("scenario")
