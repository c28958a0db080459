"""What every dialect plugin shares: the context it reads from and writes to, and helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.models import Question, Quiz, Scenario
from guidedeck.parse.answers import AnswerCards, Point, placeholder
from guidedeck.parse.blocks import Block, Source

_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass
class Context:
    """One guide as a dialect sees it, and what the dialect found in it."""

    path: str
    src: Source
    tree: list[Block]
    title: str = ""
    front_matter: dict[str, object] = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)
    """Lines (0-based) of questions found without an answer: no card, a warning each."""
    spans: dict[int, int] = field(default_factory=dict)
    """The lines each item read stand on: its first line (0-based) -> the line after its last.
    Where a file mixes conventions, a line is read by one plugin only."""
    prompts: list[tuple[int, int]] = field(default_factory=list)
    """Lines of a question's own text (a table there is part of the question, not a fact)."""

    def loc(self, line0: int) -> SourceLoc:
        """Location of 0-based ``line0``."""
        return SourceLoc(self.path, line0 + 1, 1)

    def question_card(
        self, line0: int, title: str, body: str, answer: list[str], tags: tuple[str, ...] = (),
        end: int | None = None,
    ) -> None:  # fmt: skip
        """A question and its answer as a card: the question (and its own code) in front;
        ``end``: the line after the item's last."""
        self.spans[line0] = max(end or line0 + 1, line0 + 1)
        answer = [a for a in answer if a.strip()]
        if not answer:
            self.unanswered.append(line0)
            return
        if placeholder(answer):
            said = " ".join(" ".join(answer).split())[:60]
            self.diagnostics.append(Diagnostic.warning(
                self.loc(line0), f"{plain(title)[:80]!r}: its answer is a placeholder "
                f"({said!r}); no card"))  # fmt: skip
            return
        question = Question(self.loc(line0), len(self.questions) + 1, plain(title), tags=tags)
        self.questions.append(question)
        self.scenarios.extend(
            AnswerCards(question, body.strip(), "").make([Point(None, tuple(answer))])
        )


class Dialect(Protocol):
    """A convention of writing questions and answers in Markdown."""

    name: str

    def detect(self, ctx: Context) -> int:
        """How many questions of this convention the guide holds (0: not this convention)."""
        ...

    def extract(self, ctx: Context) -> None:
        """Add the guide's cards to ``ctx``."""
        ...


def plain(text: str) -> str:
    """Inline Markdown/HTML as one line of text (tags dropped, links as their text, a stray
    ``*`` left at either end by its source dropped)."""
    text = _LINK.sub(r"\1", _TAG.sub("", text))
    return " ".join(text.replace("**", "").split()).strip(" *")


def is_question(text: str) -> bool:
    """Whether a summary or heading reads as a question rather than a label ("Answer")."""
    words = plain(text)
    if len(words) < 8 or words.lower().rstrip(":.") in _LABELS:
        return False
    first = words.split(" ", 1)[0].lower().strip("\"'`*_")
    # a task ("Explain ...", "Draw me a diagram ...") asks as much as a question mark does;
    # labels are short ("Answer", "See Class", "CSS Questions")
    return words.rstrip().endswith("?") or first in _ASKING or len(words.split()) >= 4


_LABELS = frozenset(
    {"answer", "solution", "see answer", "show answer", "see class", "see deep-dive answer",
     "click to expand", "details", "hint", "example", "explanation", "code"}
)  # fmt: skip
_ASKING = frozenset(
    {"what", "why", "how", "when", "where", "which", "who", "whose", "is", "are", "can", "could",
     "should", "does", "do", "did", "will", "would", "explain", "describe", "compare", "define",
     "name", "list", "give", "tell", "write", "implement", "design", "contrast", "discuss"}
)  # fmt: skip


def lines_of(ctx: Context, blocks: list[Block]) -> list[str]:
    """The Markdown of each block."""
    return [ctx.src.lines(b.line, b.end) for b in blocks]


__all__ = [
    "Context",
    "Dialect",
    "is_question",
    "lines_of",
    "plain",
    "split_blocks",
]


def split_blocks(markdown: str) -> list[str]:
    """Markdown cut at blank lines outside fenced code: the pieces an excerpt may stop between."""
    parts: list[str] = []
    current: list[str] = []
    fence = ""
    for line in markdown.split("\n"):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        if not stripped and not fence and current:
            parts.append("\n".join(current))
            current = []
        elif stripped or current:
            current.append(line)
    if current:
        parts.append("\n".join(current))
    return parts
