"""``### Question N: Title`` sections: each makes one scenario card.

Two rules: :data:`OPEN` (first in the list) opens and closes sections at headings; :data:`TEXT`
(last) gives the open section every block no other rule took, so it can tell the set-up from
the answer (see :class:`~guidedeck.parse.sections.SectionReader`).
"""

from __future__ import annotations

import re

from guidedeck.models import Question
from guidedeck.parse.blocks import Block
from guidedeck.parse.family.state import Rule, State, heading_level, is_prose
from guidedeck.parse.sections import SectionReader, is_runner

QUESTION = re.compile(r"^question\s+(\d+)\s*[:.)\-\u2013\u2014]\s*(.+)$", re.IGNORECASE)
_TYPE = re.compile(r"\*\*type:?\*\*:?\s*([^|*\n]+)", re.IGNORECASE)
_DETAILS = re.compile(r"\s*<details\b", re.IGNORECASE)
_DETAILS_END = re.compile(r"\s*</details\s*>\s*$", re.IGNORECASE)
_CATEGORY = re.compile(r"\*\*category:?\*\*:?\s*([^|*\n]+)", re.IGNORECASE)


def _open(state: State, items: list[Block], i: int) -> int | None:
    block = items[i]
    if block.type != "heading":
        return None
    match = QUESTION.match(block.text.strip())
    if match:
        close(state)
        _start(state, items, i, int(match.group(1)), match.group(2).strip())
        return i + 1
    level = heading_level(block)
    if level == 1 or (level == 2 and state.after_rule):
        close(state)
    return None


def _start(state: State, items: list[Block], i: int, number: int, title: str) -> None:
    qtype = category = ""
    for block in items[i + 1 :]:
        if block.type in ("heading", "hr"):
            break
        if block.type == "paragraph":
            m_type, m_cat = _TYPE.search(block.text), _CATEGORY.search(block.text)
            if m_type or m_cat:
                qtype = m_type.group(1).strip() if m_type else ""
                category = m_cat.group(1).strip() if m_cat else ""
                break
    question = Question(state.loc(items[i].line), number, title, qtype, category)
    state.out.questions.append(question)
    state.section = SectionReader(question, state.src, state.path, state.warning)
    state.section_serial += 1


def close(state: State) -> None:
    """End the open section (if any) and keep its scenario card."""
    section, state.section = state.section, None
    if section is None:
        return
    state.section_serial += 1
    state.out.scenarios.extend(section.finish())


def _text(state: State, items: list[Block], i: int) -> int | None:
    block = items[i]
    section = state.section
    if section is None:
        return i + 1
    if block.type == "heading":
        section.heading(block, heading_level(block))
    elif block.type == "html_block" and _DETAILS.match(block.token.content):
        section.hidden_answer()  # <details><summary>Answer</summary>: what follows answers
    elif block.type == "html_block" and _DETAILS_END.match(block.token.content):
        pass  # the end of what it hid: markup, not text
    elif is_runner(block):
        section.runner(block)
    elif is_prose(block):
        section.block(block)
    return i + 1


OPEN = Rule("question-sections", block=_open, finish=close)
TEXT = Rule("section-text", block=_text)

__all__ = ["OPEN", "QUESTION", "TEXT", "close"]
