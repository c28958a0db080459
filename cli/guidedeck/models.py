"""Card models: what the parser finds in a guide, before any rendering.

Every model is a frozen, slotted dataclass carrying the :class:`SourceLoc` it came from. Text fields
hold Markdown exactly as the guide wrote it (inline code, emphasis, raw HTML); rendering comes
later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guidedeck.diagnostics import SourceLoc
from guidedeck.kinds import CardKind


@dataclass(frozen=True, slots=True)
class Question:
    """A ``### Question N: title`` section: the context of every card inside it."""

    loc: SourceLoc
    number: int
    """N as written in the heading (not renumbered)."""
    title: str
    """The heading text after ``Question N:`` (Markdown)."""
    type: str = ""
    """``**Type:**`` value, e.g. ``Debugging``; empty when the guide gives none."""
    category: str = ""
    """``**Category:**`` value, e.g. ``Networking``; empty when the guide gives none."""
    tags: tuple[str, ...] = ()
    """Topics the guide tags the question with (``<!-- tags: (node,javascript) -->``)."""


@dataclass(frozen=True, slots=True)
class Quiz:
    """A multiple-choice question: from a ``### Quick Check`` block or an ``<InterviewQuiz/>``."""

    loc: SourceLoc
    prompt: str
    """The question itself (Markdown; may include code blocks)."""
    options: tuple[str, ...]
    """Option texts in source order, without their ``A.`` letters (Markdown)."""
    correct: int
    """0-based index into ``options`` of the one correct answer."""
    explanation: str
    """Why the answer is right (Markdown); empty when the guide gives none."""
    section: Question | None
    """The question section the quiz sits in, if any."""
    origin: str
    """``"quick-check"`` or ``"InterviewQuiz"``: the syntax it was written in."""
    kind: CardKind = field(default=CardKind.QUIZ, init=False)


@dataclass(frozen=True, slots=True)
class Table:
    """A GFM table: shared by the facts made from its rows."""

    loc: SourceLoc
    headers: tuple[str, ...]
    """Header cells (Markdown)."""
    rows: tuple[tuple[str, ...], ...]
    """Body rows as written, each padded to the header's width (Markdown cells)."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One body row of a GFM table, asked about by its first cell."""

    loc: SourceLoc
    table: Table
    row: int
    """0-based index of this row in ``table.rows``."""
    context: str
    """Text of the nearest heading above the table (Markdown)."""
    section: Question | None
    given: int = 0
    """A column (>= 1) shown on the front beside the first cell, because rows of this table
    share their first cell and this column tells them apart; 0 when the first cell is enough."""
    numbered: bool = False
    """True when nothing but the row's place tells it from a row with the same first cells."""
    kind: CardKind = field(default=CardKind.FACT, init=False)

    @property
    def headers(self) -> tuple[str, ...]:
        """The table's header cells."""
        return self.table.headers

    @property
    def cells(self) -> tuple[str, ...]:
        """This row's cells."""
        return self.table.rows[self.row]


@dataclass(frozen=True, slots=True)
class Answer:
    """One side of a contrast: prose, code, or both."""

    text: str = ""
    """Prose (Markdown)."""
    code: str = ""
    """Source code shown as a block, when the side is code."""
    language: str = ""
    """Fence language of ``code`` (may be empty: shown as plain text)."""
    title: str = ""
    """A short heading for the side, when the guide gives one."""


@dataclass(frozen=True, slots=True)
class Contrast:
    """Common mistake vs senior approach: a call-out pair or a ``<JuniorVsSenior>`` component."""

    loc: SourceLoc
    mistake: Answer
    senior: Answer
    explanation: str
    """Markdown body of ``<JuniorVsSenior>``; empty for call-out pairs."""
    section: Question | None
    origin: str
    """``"callout"`` or ``"JuniorVsSenior"``."""
    part: str = ""
    """Which part of its question the contrast is about (a heading, or ``part 2 of 3``), set when
    the question holds several contrasts, so their fronts differ; empty otherwise."""
    kind: CardKind = field(default=CardKind.CONTRAST, init=False)


@dataclass(frozen=True, slots=True)
class OutlineItem:
    """One step/solution heading of a question's answer."""

    loc: SourceLoc
    level: int
    """Heading level (2 for ``##`` ...)."""
    title: str
    key: str = ""
    """Its key content (first sentence, first item or code line), on the overview of an answer
    too long for one card."""


@dataclass(frozen=True, slots=True)
class Reveal:
    """Something a question section holds that would give its answer away: tests, expected
    output, a solution. Always on the back, under its label."""

    loc: SourceLoc
    label: str
    """What it is, as the guide names it (``Test cases``, ``Output``)."""
    text: str
    """Markdown (usually one fenced code block)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A question section as a whole: scenario and challenge in front, answer outline behind."""

    loc: SourceLoc
    question: Question
    scenario: str
    """The set-up: ``## The Scenario`` body, or whatever precedes the task and the answer
    (Markdown, code included; a code runner's exercise code kept, its tests left out)."""
    challenge: str
    """``## The Challenge`` body (Markdown), call-outs excluded."""
    outline: tuple[OutlineItem, ...]
    """The answer's structure: its headings, else its bold step lines."""
    answer: str = ""
    """The answer behind the card (Markdown): the whole answer when it fits one card; else, on
    the question's card, the start of the answer (its lead sentence, or its first part), and
    on a part's card, that part (see :mod:`guidedeck.parse.answers`)."""
    reveals: tuple[Reveal, ...] = ()
    part: int = 0
    """0: the question's own card; N: the card of the answer's part N."""
    parts: int = 0
    """How many part cards the answer has (0: it fits the question's card)."""
    point: str = ""
    """The title of the answer point a part's card asks for ("" for a part without one)."""
    piece: int = 1
    """Which piece of its point a part's card holds (a point too long for one card has more)."""
    kind: CardKind = field(default=CardKind.SCENARIO, init=False)

    @property
    def section(self) -> Question:
        """The question section (the scenario's own)."""
        return self.question


Card = Quiz | Fact | Contrast | Scenario


@dataclass(frozen=True, slots=True)
class Guide:
    """Everything parsed from one guide file."""

    path: str
    title: str
    """H1 text (or front-matter ``title``, or the file stem)."""
    slug: str
    """Lower-case, dash-separated name from the file stem: stable across title edits."""
    questions: tuple[Question, ...]
    quizzes: tuple[Quiz, ...]
    facts: tuple[Fact, ...]
    contrasts: tuple[Contrast, ...]
    scenarios: tuple[Scenario, ...]
    others: tuple[Any, ...] = ()
    """Cards of kinds registered beside the four (:mod:`guidedeck.cards`): frozen models with
    a ``loc``, a ``kind`` and a ``section``, made by the kind's own parser rule."""

    @property
    def cards(self) -> tuple[Card, ...]:
        """All card models in source order."""
        every: list[Card] = [
            *self.quizzes, *self.facts, *self.contrasts, *self.scenarios, *self.others
        ]  # fmt: skip
        every.sort(key=lambda c: (c.loc.line, c.loc.col))
        return tuple(every)


__all__ = [
    "Answer",
    "Card",
    "CardKind",
    "Contrast",
    "Fact",
    "Guide",
    "OutlineItem",
    "Question",
    "Quiz",
    "Reveal",
    "Scenario",
    "Table",
]
