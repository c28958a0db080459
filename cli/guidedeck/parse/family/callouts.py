"""``> **Common Mistake:** …`` followed by ``> **Senior Engineer Approach:** …``: a contrast.

The two may share one quote or stand in two; a Common Mistake waits for its Senior Approach
until the question section it stands in ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guidedeck.diagnostics import SourceLoc
from guidedeck.models import Answer, Contrast, Question
from guidedeck.parse.blocks import Block
from guidedeck.parse.family.state import Rule, State

_MISTAKE = re.compile(
    r"^\W*\*\*\s*(?:common\s+mistakes?|junior(?:\s+engineer)?(?:\s+(?:approach|answer))?)\s*:?\s*\*\*\s*:?\s*",
    re.IGNORECASE,
)
_SENIOR = re.compile(
    r"^\W*\*\*\s*senior(?:\s+engineer)?(?:\s+(?:approach|answer))?\s*:?\s*\*\*\s*:?\s*",
    re.IGNORECASE,
)
_QUOTE_PREFIX = re.compile(r"^[ \t]{0,3}>[ ]?", re.MULTILINE)
_NAME = "callouts"


@dataclass
class _Mistake:
    answer: Answer
    loc: SourceLoc
    section: Question | None
    serial: int


def _callout(state: State, items: list[Block], i: int) -> int | None:
    """Pair call-outs; a quote that is none passes on (it is then part of a scenario's text)."""
    block = items[i]
    if block.type != "blockquote" or not block.children:
        return None
    senior_at = next((k for k, p in enumerate(block.children) if _SENIOR.match(p.text)), None)
    is_mistake = bool(_MISTAKE.match(block.children[0].text))
    if not is_mistake and senior_at is None:
        return None
    if is_mistake:
        end = senior_at if senior_at is not None else len(block.children)
        _flush(state)
        state.pending[_NAME] = _Mistake(
            Answer(text=_quote_text(state, block.children[:end], _MISTAKE)),
            state.loc(block.line),
            state.question,
            state.section_serial,
        )
    if senior_at is not None:
        senior = Answer(text=_quote_text(state, block.children[senior_at:], _SENIOR))
        _flush(state, keep_serial=state.section_serial)
        mistake = state.pending.pop(_NAME, None)
        if not isinstance(mistake, _Mistake):
            state.warning(
                state.loc(block.children[senior_at].line),
                "Senior Engineer Approach call-out without a Common Mistake before it; skipped",
            )
            return i + 1
        state.add_contrast(
            Contrast(mistake.loc, mistake.answer, senior, "", mistake.section, "callout")
        )
    if state.section is not None:
        state.section.comparison()
    return i + 1


def _quote_text(state: State, blocks: list[Block], label: re.Pattern[str]) -> str:
    text = _QUOTE_PREFIX.sub("", state.src.lines(blocks[0].line, blocks[-1].end))
    return label.sub("", text, count=1).strip()


def _flush(state: State, keep_serial: int | None = None) -> None:
    """Report a Common Mistake left without its partner (unless it is still in section
    ``keep_serial``, where its partner may yet come)."""
    mistake = state.pending.get(_NAME)
    if not isinstance(mistake, _Mistake) or mistake.serial == keep_serial:
        return
    del state.pending[_NAME]
    state.warning(
        mistake.loc, "Common Mistake call-out has no Senior Engineer Approach after it; skipped"
    )


RULE = Rule(_NAME, block=_callout, finish=_flush)

__all__ = ["RULE"]
