"""Other conventions of interview-question collections, one plugin per convention.

Each plugin is a :class:`Dialect`: it counts the questions it recognises in a guide's block tree
(``detect``) and turns them into the same card models as the guide family's own syntaxes
(``extract``); nothing downstream learns which plugin made a card. They are registered in one
list, :data:`DIALECTS`, as markdown-it-py registers its rules. A file is read by the family's
syntaxes (always) plus the one dialect that recognises most questions in it, unless a dialect
is named (``--dialect``, decks.yaml ``dialect:``).
"""

from __future__ import annotations

from guidedeck.parse.dialects.base import Context, Dialect
from guidedeck.parse.dialects.choice import MultipleChoice
from guidedeck.parse.dialects.details import DetailsQuestions
from guidedeck.parse.dialects.heading_answer import HeadingAnswer
from guidedeck.parse.dialects.numbered import NumberedHeadings
from guidedeck.parse.dialects.single_file import SingleQuestionFile

DIALECTS: tuple[Dialect, ...] = (
    MultipleChoice(),
    NumberedHeadings(),
    DetailsQuestions(),
    HeadingAnswer(),
    SingleQuestionFile(),
)
NAMES = ("auto", "family", *(d.name for d in DIALECTS))
"""What ``--dialect`` accepts: auto-detection, the family's syntaxes only, or one plugin."""


def by_name(name: str) -> Dialect | None:
    """The registered dialect called ``name`` (None for ``auto`` and ``family``)."""
    return next((d for d in DIALECTS if d.name == name), None)


__all__ = ["DIALECTS", "NAMES", "Context", "Dialect", "by_name"]
