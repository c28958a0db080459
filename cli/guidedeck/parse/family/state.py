"""What the guide family's syntax plugins share: the walk's state, and the rule type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.models import Contrast, Fact, Question, Quiz, Scenario
from guidedeck.parse.blocks import Block, Source
from guidedeck.parse.jsx import Attr
from guidedeck.parse.languages import LanguageCounter
from guidedeck.parse.sections import SectionReader

MAX_TEXT = 20_000
"""Longest text a card field takes (the longest in the 16 real guides is about 1,000): longer
text is shortened with a warning, which also bounds the cost of rendering hostile input."""


@dataclass
class Extracted:
    """What extraction found, before it is frozen into a Guide."""

    title: str = ""
    questions: list[Question] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    contrasts: list[Contrast] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    others: list[Any] = field(default_factory=list)
    """Cards of kinds registered beside the four (:mod:`guidedeck.cards`), by their own rules."""
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Visited:
    """A top-level block the walk passed, with the context it stood in."""

    block: Block
    heading: str
    question: Question | None


@dataclass
class State:
    """One guide's walk: where it stands (heading, question section) and what it found.

    Plugins read the context and add cards to :attr:`out`; the open question section is shared,
    because a comparison or call-out inside it answers part of its question.
    """

    path: str
    src: Source
    out: Extracted = field(default_factory=Extracted)
    heading: str = ""
    """Text of the nearest heading above the current block."""
    after_rule: bool = False
    """The block before the current one was a ``---`` rule."""
    section: SectionReader | None = None
    """The open ``### Question N`` section, if any."""
    section_serial: int = 0
    """Counts openings and closings of question sections: what waits for a partner (a Common
    Mistake for its Senior Approach) never pairs across a section's edge."""
    languages: LanguageCounter = field(default_factory=LanguageCounter)
    visited: list[Visited] = field(default_factory=list)
    contexts: dict[int, str] = field(default_factory=dict)
    """Nearest heading of each contrast, by ``id()`` (contrasts are frozen)."""
    pending: dict[str, object] = field(default_factory=dict)
    """A plugin's own state between blocks, under its rule's name."""
    skip_kinds: set[str] = field(default_factory=set)
    """Kinds of card the guide's front matter leaves out (``guidedeck: {skip: [fact]}``)."""

    def loc(self, line0: int, col: int = 1) -> SourceLoc:
        """Location of 0-based ``line0``."""
        return SourceLoc(self.path, line0 + 1, col)

    def attr_loc(self, attr: Attr) -> SourceLoc:
        """Location of a component attribute."""
        line, col = self.src.position(attr.pos)
        return SourceLoc(self.path, line, col)

    def warning(self, loc: SourceLoc, message: str) -> None:
        """Report a problem that skips or changes a card."""
        self.out.diagnostics.append(Diagnostic.warning(loc, message))

    def cap(self, text: str, loc: SourceLoc) -> str:
        """``text``, shortened with a warning when it is too long for a card."""
        if len(text) <= MAX_TEXT:
            return text
        cut = text.rfind("\n", 0, MAX_TEXT)
        cut = cut if cut > MAX_TEXT // 2 else MAX_TEXT
        self.warning(loc, f"card text of {len(text):,} characters shortened to {cut:,}")
        return text[:cut].rstrip() + "\n\n… (shortened)"

    @property
    def question(self) -> Question | None:
        """The open question section's question."""
        return self.section.question if self.section else None

    def add_contrast(self, contrast: Contrast) -> None:
        """Keep a contrast card, remembering the heading it stood under."""
        self.out.contrasts.append(contrast)
        self.contexts[id(contrast)] = self.heading


BlockRule = Callable[[State, list[Block], int], "int | None"]
"""Reads ``items[i]`` (and maybe more): the index after what it took, or None to pass it on."""
FinishRule = Callable[[State], None]
"""Runs once the walk is over (pairs left open, cards that need the whole guide)."""


@dataclass(frozen=True)
class Rule:
    """One syntax of the guide family, as markdown-it-py registers its rules.

    ``block`` is offered each top-level block in turn, in the order of the rule list; the first
    rule that takes it ends the offer. ``components`` names the MDX components the rule reads
    whole (others are unwrapped, so their Markdown children count).
    """

    name: str
    block: BlockRule | None = None
    finish: FinishRule | None = None
    components: frozenset[str] = frozenset()


def is_prose(block: Block) -> bool:
    """Whether a block is text a reader sees (not a component, an error or front matter)."""
    return block.type not in (
        "mdx_component",
        "mdx_wrapper",
        "mdx_error",
        "nesting_error",
        "mdx_esm",
        "mdx_expression",
        "front_matter",
    )


def heading_level(block: Block) -> int:
    """2 for ``##`` and so on."""
    return int(block.token.tag[1:]) if block.token.tag[1:].isdigit() else 0


def component(block: Block, name: str) -> bool:
    """Whether ``block`` is MDX component ``<name>`` (self-closing or wrapping)."""
    tag = block.tag
    return block.type in ("mdx_component", "mdx_wrapper") and tag is not None and tag.name == name


__all__ = [
    "MAX_TEXT",
    "BlockRule",
    "Extracted",
    "FinishRule",
    "Rule",
    "State",
    "Visited",
    "component",
    "heading_level",
    "is_prose",
]
