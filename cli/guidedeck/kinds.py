"""The card kinds, in a module light enough for the command line to import at start-up."""

from __future__ import annotations

import enum


class CardKind(str, enum.Enum):
    """The four kinds of card guidedeck makes."""

    QUIZ = "quiz"
    FACT = "fact"
    CONTRAST = "contrast"
    SCENARIO = "scenario"
