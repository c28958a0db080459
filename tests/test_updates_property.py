"""Random sequences of guide edits never lose a review or duplicate a note (hypothesis + Anki).

A guide is generated from a small model (questions with a scenario, quizzes and a table); every
item carries a token that no edit touches, so the test can follow it from note to note. After each
edit the deck is rebuilt and imported into the same collection, and new cards are answered.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidedeck.build import build
from guidedeck.config import default_package
from tests.anki_engine import fresh_collection, import_package
from tests.test_updates import answer_every_card, review_state

WORDS = """
cache latency replica shard queue broker lease quorum index vacuum socket thread mutex channel
buffer packet header payload schema migration rollback deploy canary probe metric alert budget
token secret policy role bucket region zone cluster node pod volume image layer proxy gateway
router subnet firewall certificate handshake cipher session cookie header origin redirect retry
backoff timeout deadline circuit breaker limiter throttle quota partition offset consumer producer
topic stream window watermark checkpoint snapshot journal ledger transaction isolation deadlock
latch semaphore scheduler worker process fork signal heap stack pointer garbage collector arena
allocator page frame kernel syscall driver interrupt register cache line prefetch branch compiler
linker module package dependency lockfile artifact registry pipeline runner agent job step matrix
secretstore vault rotation audit trail compliance encryption hashing salt nonce signature verify
query planner join scan predicate cursor trigger view sequence constraint foreign primary unique
""".split()  # noqa: SIM905 (a word list reads better as text)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


@dataclass
class Quiz:
    token: str
    question: str
    options: list[str]
    correct: int
    explanation: str


@dataclass
class Row:
    token: str
    cells: list[str]


@dataclass
class Question:
    token: str
    title: str
    scenario: str
    heading: str
    quizzes: list[Quiz] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


class Model:
    """A guide as data: edits change it, :meth:`markdown` writes it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0
        self.questions = [self.new_question() for _ in range(3)]

    def token(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}z"

    def new_quiz(self) -> Quiz:
        r = self.rng
        return Quiz(self.token("qz"), words(r, 7), [words(r, 3) for _ in range(3)], r.randrange(3),
                    words(r, 12))  # fmt: skip

    def new_row(self) -> Row:
        return Row(self.token("rw"), [words(self.rng, 2), words(self.rng, 3)])

    def new_question(self) -> Question:
        r = self.rng
        q = Question(self.token("qs"), words(r, 6), words(r, 25), words(r, 3))
        q.quizzes = [self.new_quiz() for _ in range(2)]
        q.rows = [self.new_row() for _ in range(3)]
        return q

    def markdown(self) -> str:
        out = ["# Property Guide", ""]
        for n, q in enumerate(self.questions, start=1):
            out += [
                f"### Question {n}: {q.title}",
                "",
                "**Type:** Practical | **Category:** Ops",
                "",
                "## The Scenario",
                "",
                f"{q.scenario} ({q.token}).",
                "",
                "## The Challenge",
                "",
                "Explain it.",
                "",
                "### Step 1: Look",
                "",
                "Look.",
                "",
                f"## {q.heading}",
                "",
                "| Item | First | Second |",
                "|---|---|---|",
            ]
            out += [f"| {row.token} | {row.cells[0]} | {row.cells[1]} |" for row in q.rows]
            for quiz in q.quizzes:
                out += ["", "### Quick Check", "", f"**{quiz.question} ({quiz.token})?**", ""]
                for k, option in enumerate(quiz.options):
                    mark = "->" if k == quiz.correct else "  "
                    out.append(f"{mark} {'ABC'[k]}. {option}")
                out += ["", "<details>", "<summary>See Answer</summary>", "",
                        quiz.explanation, "", "</details>"]  # fmt: skip
            out += ["", "---", ""]
        return "\n".join(out) + "\n"

    def tokens(self) -> dict[str, str]:
        """Every live item's token and the note field it is found in."""
        found = {}
        for q in self.questions:
            found[q.token] = "Scenario"
            found.update({quiz.token: "Question" for quiz in q.quizzes})
            found.update({row.token: "Subject" for row in q.rows})
        return found


def _typo(m: Model, q: Question) -> None:
    quiz = m.rng.choice(q.quizzes)
    text = list(quiz.question)
    i = m.rng.randrange(len(text) - 1)
    text[i], text[i + 1] = text[i + 1], text[i]
    quiz.question = "".join(text)


def _rewrite_explanation(m: Model, q: Question) -> None:
    m.rng.choice(q.quizzes).explanation = words(m.rng, 12)


def _edit_option(m: Model, q: Question) -> None:
    quiz = m.rng.choice(q.quizzes)
    quiz.options[m.rng.randrange(3)] = words(m.rng, 3)


def _edit_cell(m: Model, q: Question) -> None:
    m.rng.choice(q.rows).cells[m.rng.randrange(2)] = words(m.rng, 2)


def _add_row(m: Model, q: Question) -> None:
    q.rows.insert(m.rng.randrange(len(q.rows) + 1), m.new_row())


def _remove_row(m: Model, q: Question) -> None:
    if len(q.rows) > 1:
        q.rows.pop(m.rng.randrange(len(q.rows)))


def _add_quiz(m: Model, q: Question) -> None:
    q.quizzes.insert(m.rng.randrange(len(q.quizzes) + 1), m.new_quiz())


def _remove_quiz(m: Model, q: Question) -> None:
    if len(q.quizzes) > 1:
        q.quizzes.pop(m.rng.randrange(len(q.quizzes)))


def _rename_title(m: Model, q: Question) -> None:
    q.title = words(m.rng, 6)


def _rename_heading(m: Model, q: Question) -> None:
    q.heading = words(m.rng, 3)


def _reorder(m: Model, q: Question) -> None:
    m.rng.shuffle(m.questions)  # rendering renumbers them


EDITS: dict[str, Callable[[Model, Question], None]] = {
    "typo": _typo,
    "rewrite-explanation": _rewrite_explanation,
    "edit-option": _edit_option,
    "edit-cell": _edit_cell,
    "add-row": _add_row,
    "remove-row": _remove_row,
    "add-quiz": _add_quiz,
    "remove-quiz": _remove_quiz,
    "rename-title": _rename_title,
    "rename-heading": _rename_heading,
    "reorder": _reorder,
}


def note_for_token(col: object, token: str, field_name: str) -> list[int]:
    notes = []
    for nid in col.find_notes(""):  # type: ignore[attr-defined]
        note = col.get_note(nid)  # type: ignore[attr-defined]
        if field_name in note and token in note[field_name]:
            notes.append(nid)
    return notes


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    seed=st.integers(0, 2**32 - 1),
    batches=st.lists(
        st.lists(
            st.tuples(st.sampled_from(sorted(EDITS)), st.integers(0, 2)), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_random_edits_never_lose_a_review_or_duplicate_a_note(
    seed: int, batches: list[list[tuple[str, int]]]
) -> None:
    """Each batch (one to three edits) is applied before a rebuild, as authors edit between
    builds; the deck is imported into the same collection every time."""
    model = Model(random.Random(seed))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        guide = root / "guides" / "property.md"
        guide.parent.mkdir()
        col = fresh_collection(root / "anki")
        first_nid: dict[str, int] = {}
        try:
            for step, batch in enumerate([[], *batches]):
                name = "+".join(edit for edit, _ in batch) or "start"
                for edit, target in batch:
                    EDITS[edit](model, model.questions[target % len(model.questions)])
                guide.write_text(model.markdown(), encoding="utf-8")
                before = review_state(col)
                report = build([default_package(guide)], root / "out",
                               now=1_700_000_000 + step)  # fmt: skip
                assert report.packages[0].written, [str(d) for d in report.diagnostics]
                log = import_package(col, report.packages[0].output)
                assert len(log.conflicting) == 0, (step, name)
                # no review lost: every card keeps the state it had
                after = review_state(col)
                for nid, state in before.items():
                    assert after[nid] == state, (step, name, nid)
                answer_every_card(col)
                # every live item is exactly one note, the same note since it first appeared
                for token, field_name in model.tokens().items():
                    notes = note_for_token(col, token, field_name)
                    assert len(notes) == 1, (step, name, token, notes)
                    assert first_nid.setdefault(token, notes[0]) == notes[0], (step, name, token)
                # nothing duplicated: one note per item ever made (removed ones stay in Anki)
                assert col.note_count() == len(first_nid), (step, name)
        finally:
            col.close()
