"""``<InterviewQuiz question="…" options={[…]} correctAnswer={N} explanation="…" />``."""

from __future__ import annotations

from guidedeck.models import Quiz
from guidedeck.parse.blocks import Block
from guidedeck.parse.family.state import Rule, State, component
from guidedeck.parse.jsx import JsRaw, JsValue, as_text

NAME = "InterviewQuiz"


def _interview_quiz(state: State, items: list[Block], i: int) -> int | None:
    block = items[i]
    if not component(block, NAME):
        return None
    quiz = _read(state, block)
    if quiz is not None:
        state.out.quizzes.append(quiz)
    return i + 1


def _read(state: State, block: Block) -> Quiz | None:
    tag = block.tag
    assert tag is not None
    loc = state.loc(block.line, state.src.position(tag.start)[1])
    attrs = tag.attrs
    missing = [a for a in ("question", "options", "correctAnswer") if a not in attrs]
    if missing:
        state.warning(loc, f"<{tag.name}> lacks {', '.join(missing)}; quiz skipped")
        return None
    question = attrs["question"].value
    if not isinstance(question, str) or not question.strip():
        state.warning(
            state.attr_loc(attrs["question"]), "question must be a non-empty string; quiz skipped"
        )
        return None
    options = attrs["options"].value
    if not (isinstance(options, list) and all(isinstance(o, str) for o in options)):
        state.warning(
            state.attr_loc(attrs["options"]),
            'options must be an array of strings: {["..."]}; quiz skipped',
        )
        return None
    if len(options) < 2:
        state.warning(
            state.attr_loc(attrs["options"]), "a quiz needs at least two options; skipped"
        )
        return None
    answer = attrs["correctAnswer"]
    index = _as_index(answer.value)
    if index is None or not 0 <= index < len(options):
        shown = answer.value.text if isinstance(answer.value, JsRaw) else answer.value
        state.warning(
            state.attr_loc(answer),
            f"correctAnswer={shown!r} is not an index of the {len(options)} options "
            f"(0 to {len(options) - 1}); quiz skipped",
        )
        return None
    explanation = attrs["explanation"].value if "explanation" in attrs else ""
    if not isinstance(explanation, str):
        state.warning(state.attr_loc(attrs["explanation"]), "explanation is not a string")
        explanation = ""
    if not explanation:
        state.warning(loc, f"<{tag.name}> has no explanation")
    texts = tuple(as_text(str(o)) for o in options)
    return Quiz(loc, as_text(question.strip()), texts, index, as_text(explanation.strip()),
                state.question, tag.name)  # fmt: skip


def _as_index(value: JsValue) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


RULE = Rule("interview-quiz", block=_interview_quiz, components=frozenset({NAME}))

__all__ = ["NAME", "RULE"]
