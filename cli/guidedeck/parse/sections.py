"""Question sections to scenario cards: which blocks set the question and which answer it.

Guides of this family lay a ``### Question N`` section out in several ways: ``## The Scenario`` /
``## The Challenge`` headings; set-up prose straight after the ``**Type:**`` line; answers under
``### Step N`` headings, under ``## The Solution``, in bold ``**Step 1: ...**`` lines, or wrapped
whole in a ``<JuniorVsSenior>`` component; exercises in a code runner whose tests sit beside the
code. :class:`SectionReader` tells the parts apart by structure, not by heading names: the set-up
is what comes before the first sign of an answer, and these are signs of an answer:

- a heading other than the scenario and challenge headings (``### Step 1``, ``## The Solution``);
- a bold line that numbers a step (``**Step 1: ...**``, ``**Option 2**``, ``**3. Cache it**``);
- a bold label that names an answer (``**The Fix:** ...``, ``**Why it happens:**``), where the
  author did not name the parts with headings;
- a comparison (a ``<JuniorVsSenior>`` component or a Common Mistake call-out);
- the end of a code runner (its exercise is the last part of the set-up).

Whatever would give the answer away (a runner's tests, its expected output, a solution slot) is
kept for the back, under its label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from guidedeck.diagnostics import SourceLoc
from guidedeck.models import OutlineItem, Question, Reveal, Scenario
from guidedeck.parse.answers import CONTINUES, AnswerCards, Point, placeholder
from guidedeck.parse.blocks import Block, Source

EXPLANATION_BUDGET = 1_500
"""Characters of an explanation an excerpt keeps (see :func:`excerpt_of`)."""

_SCENARIO = re.compile(r"^\W*(?:the\s+)?scenario\W*$", re.IGNORECASE)
_CHALLENGE = re.compile(r"^\W*(?:the\s+)?(?:challenge|task)\W*$", re.IGNORECASE)
_META = re.compile(r"\*\*(?:type|category):?\*\*", re.IGNORECASE)
_BOLD_LEAD = re.compile(r"^\*\*(?P<label>(?:(?!\*\*).)+)\*\*\s*:?\s*(?P<rest>.*)$")
_ANSWER_LABEL = re.compile(
    r"^(?:the\s+|our\s+)?(?:fix|solution|answer|explanation|root\s+cause|resolution|"
    r"why\b|how\s+(?:it|this)\s+works)",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"^(?:[A-Za-z]+\s+)?(?:\d{1,2}[:.)]?|[A-H][:.)])(?:\s|$)")
_FRONT_SLOTS = frozenset(
    {"code", "starter", "startercode", "template", "setup", "problem", "initial", "initialcode",
     "input", "buggy", "buggycode"}
)  # fmt: skip
"""Runner slots that hold the exercise itself; every other slot (tests, output, solution, hints)
could give the answer away and goes to the back."""

SETUP, TASK, ANSWER = "setup", "task", "answer"
_NOT_TEXT = frozenset(
    {"mdx_component", "mdx_wrapper", "mdx_error", "nesting_error", "mdx_esm", "mdx_expression",
     "front_matter"}
)  # fmt: skip


def slot_name(block: Block) -> str | None:
    """The ``slot="..."`` of a ``<Fragment>``-like child, if it has one."""
    tag = block.tag
    if tag is None or "slot" not in tag.attrs:
        return None
    value = tag.attrs["slot"].value
    return value.strip() if isinstance(value, str) and value.strip() else None


def is_runner(block: Block) -> bool:
    """A component whose children are named slots: a code runner or a tabbed example."""
    return (
        block.type == "mdx_wrapper"
        and block.tag is not None
        and any(slot_name(child) is not None for child in block.children)
    )


def front_slot(name: str) -> bool:
    """True for a slot that holds the exercise (shown on the front)."""
    return re.sub(r"[^a-z]", "", name.lower()) in _FRONT_SLOTS


def slot_label(name: str) -> str:
    """``test-cases`` -> ``Test cases``; ``expectedOutput`` -> ``Expected output``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("-", " ").replace("_", " ")
    text = " ".join(words.split()).lower()
    return text[:1].upper() + text[1:]


def step_title(block: Block) -> str | None:
    """The title of a bold step line (``**Step 1: Contain it**``), else None."""
    if block.type != "paragraph":
        return None
    first = block.text.strip().split("\n", 1)[0]
    match = _BOLD_LEAD.match(first)
    if match is None or not _NUMBERED.match(match.group("label").strip()):
        return None
    return _title(match)


def answer_label(block: Block) -> str | None:
    """The title of a paragraph led by a bold label that names an answer (``**The Fix:**``)."""
    if block.type != "paragraph":
        return None
    match = _BOLD_LEAD.match(block.text.strip().split("\n", 1)[0])
    if match is None or not _ANSWER_LABEL.match(match.group("label").strip()):
        return None
    return match.group("label").strip().rstrip(":").strip()


def label_title(block: Block) -> str | None:
    """The title of a paragraph that is wholly one bold label (``**Why it works:**``)."""
    if block.type != "paragraph" or "\n" in block.text.strip():
        return None
    match = _BOLD_LEAD.match(block.text.strip())
    if match is None or match.group("rest").strip():
        return None
    return _title(match)


def _title(match: re.Match[str]) -> str:
    label = match.group("label").strip().rstrip(":").strip()
    rest = match.group("rest").strip()
    text = f"{label}: {rest}" if rest else label
    text = " ".join(text.replace("**", "").split())
    return text if len(text) <= 100 else text[:99].rstrip() + "\u2026"


@dataclass
class SectionReader:
    """Collects one question section's blocks, in order, and makes its scenario card."""

    question: Question
    src: Source
    path: str
    warn: Callable[[SourceLoc, str], None]
    state: str = SETUP
    setup: list[str] = field(default_factory=list)
    task: list[str] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)
    headings: list[OutlineItem] = field(default_factory=list)
    steps: list[OutlineItem] = field(default_factory=list)
    labels: list[OutlineItem] = field(default_factory=list)
    starts: dict[int, int] = field(default_factory=dict)
    """Where each outline item (by ``id``) starts in ``answer``: the answer's points."""
    reveals: list[Reveal] = field(default_factory=list)
    told_apart: bool = False
    explicit: bool = False
    """The author named the parts (``## The Scenario``, ``## The Challenge``): only headings
    move from one part to the next."""
    meta_seen: bool = False
    compared: bool = False
    """A comparison (its own card) answers part of the question."""

    def loc(self, line0: int) -> SourceLoc:
        """Location of 0-based ``line0``."""
        return SourceLoc(self.path, line0 + 1, 1)

    def _put(self, text: str) -> None:
        if not text.strip():
            return
        {SETUP: self.setup, TASK: self.task, ANSWER: self.answer}[self.state].append(text)

    def heading(self, block: Block, level: int) -> None:
        """A heading inside the section: a part's name, or a step of the answer."""
        text = block.text.strip()
        if _SCENARIO.match(text):
            self.state, self.told_apart, self.explicit = SETUP, True, True
        elif _CHALLENGE.match(text):
            self.state, self.told_apart, self.explicit = TASK, True, True
        else:
            self.state, self.told_apart = ANSWER, True
            self._point(self.headings, OutlineItem(self.loc(block.line), level, text))
            # in the excerpt a heading is a bold line: big headings crowd a phone screen
            self.answer.append(f"**{text}**")

    def block(self, block: Block) -> None:
        """A block of prose, code, a table or a list."""
        if block.type == "paragraph" and not self.meta_seen and _META.search(block.text):
            self.meta_seen = True
            return
        if block.type == "hr":
            return
        step = step_title(block)
        if step is not None and (self.state == ANSWER or not self.explicit):
            # where the author named the parts, a bold line inside them is theirs (a speaker,
            # a label), not the answer's first step
            self.state, self.told_apart = ANSWER, True
            self._point(self.steps, OutlineItem(self.loc(block.line), 0, step))
        elif self.state != ANSWER and not self.explicit and answer_label(block) is not None:
            self.state, self.told_apart = ANSWER, True
            named = answer_label(block) or ""
            self._point(self.labels, OutlineItem(self.loc(block.line), 0, named))
        elif self.state == ANSWER:
            label = label_title(block)
            if label is not None:
                self._point(self.labels, OutlineItem(self.loc(block.line), 0, label))
        self._put(self.src.lines(block.line, block.end))

    def _point(self, outline: list[OutlineItem], item: OutlineItem) -> None:
        """An answer point starts at the next block of the answer."""
        outline.append(item)
        self.starts[id(item)] = len(self.answer)

    def comparison(self, body: list[Block] | None = None) -> None:
        """A contrast (its own card): the answer starts here, unless the author named the
        parts with headings. A wrapper's body is answer either way."""
        self.told_apart = self.compared = True
        resume = self.state if self.explicit else ANSWER
        self.state = ANSWER
        for child in body or []:
            if child.type == "heading":
                level = int(child.token.tag[1:]) if child.token.tag[1:].isdigit() else 0
                self.heading(child, level)
            elif child.type not in _NOT_TEXT:
                self.block(child)
        if not body or not any(c.type == "heading" for c in body):
            self.state = resume

    def hidden_answer(self) -> None:
        """A ``<details>`` block: what it hides is the answer (unless the author named the
        parts with headings: then the next heading moves on)."""
        self.told_apart = True
        if not self.explicit:
            self.state = ANSWER

    def runner(self, block: Block) -> None:
        """A code runner: its exercise belongs where it stands, its tests on the back."""
        for child in block.children:
            name = slot_name(child)
            inner = child.children if name is not None else [child]
            text = self.src.blocks(inner)
            if name is None or front_slot(name):
                self._put(text)
            elif text.strip():
                self.reveals.append(Reveal(self.loc(child.line), slot_label(name), text))
        # the exercise ends the set-up (what follows explains or solves it), unless the author
        # named the parts: then the next heading does
        self.told_apart = True
        if not self.explicit:
            self.state = ANSWER

    def finish(self) -> list[Scenario]:
        """The section's cards: its question's, then its answer's parts (see
        :mod:`guidedeck.parse.answers`); none when its answer is a placeholder or missing."""
        q = self.question
        setup, task = self.setup, self.task
        if not self.told_apart and setup:
            self.warn(
                q.loc,
                f"Question {q.number}: cannot tell its set-up from its answer (no 'The "
                "Challenge' or answer heading, bold step line, code runner or comparison); "
                "its text is on the back only",
            )
            self.answer, self.starts, setup = setup, {}, []
        outline = self.headings or self.steps or self.labels
        titles = {self.starts.get(id(h)) for h in self.headings}
        said = [b for n, b in enumerate(self.answer) if n not in titles]
        if not self.reveals and not self.compared and placeholder(said):
            self.warn(
                self._answer_loc(outline), f"Question {q.number}: {self._missing(said)}; no card"
            )
            return []
        cards = AnswerCards(q, "\n\n".join(setup), "\n\n".join(task), tuple(self.reveals))
        return cards.make(self._points(outline))

    def _missing(self, answer: list[str]) -> str:
        """Why a section has no answer to show."""
        said = " ".join(" ".join(answer).split())[:60]
        if said:
            return f"its answer is a placeholder ({said!r})"
        if self.setup or self.task:
            return ("nothing marks where its answer starts (no heading, bold step line, code "
                    "runner or comparison after its set-up)")  # fmt: skip
        return "it has no text below its title"

    def _answer_loc(self, outline: list[OutlineItem]) -> SourceLoc:
        return outline[0].loc if outline else self.question.loc

    def _points(self, outline: list[OutlineItem]) -> list[Point]:
        """The answer cut at its points (the text before the first, if any, leads)."""
        starts = [self.starts.get(id(item), 0) for item in outline]
        first = starts[0] if starts else len(self.answer)
        points = [Point(None, tuple(self.answer[:first]))] if first else []
        ends = [*starts[1:], len(self.answer)] if starts else []
        points += [
            Point(item, tuple(self.answer[a:b]))
            for item, a, b in zip(outline, starts, ends, strict=True)
        ]
        return points


def excerpt_of(
    parts: list[str], budget: int = EXPLANATION_BUDGET, headings: Collection[int] = ()
) -> str:
    """The first blocks of ``parts`` within ``budget`` characters, then a mark that the text goes
    on. Blocks are never cut, so no code block ends half-way; at least one block that is not a
    heading (``headings`` holds their indexes) is taken, however long."""
    taken: list[str] = []
    used = 0
    content = False
    for n, part in enumerate(parts):
        if content and used + len(part) > budget:
            return "\n\n".join([*taken, CONTINUES])
        taken.append(part)
        used += len(part) + 2
        content = content or n not in headings
        if content and used > budget and n + 1 < len(parts):
            return "\n\n".join([*taken, CONTINUES])
    return "\n\n".join(taken)


__all__ = [
    "SectionReader",
    "excerpt_of",
    "front_slot",
    "is_runner",
    "label_title",
    "slot_label",
    "slot_name",
    "step_title",
]
