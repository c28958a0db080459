"""The guide family's own syntaxes, one plugin module each, registered in one list.

As markdown-it-py does with its rules, :data:`RULES` is the order in which each top-level block
is offered to the plugins; the first that takes it ends the offer, and a block nobody takes goes
to the open question section as text. The walk itself (headings, context, what every card
needs at the end) is :mod:`guidedeck.parse.extract`. Other conventions are the dialect plugins
of :mod:`guidedeck.parse.dialects`: the family's rules read every file, one dialect at most
joins them.

| rule | syntax |
|---|---|
| ``question-sections`` | ``### Question N: Title`` opens a section (one scenario card) |
| ``quick-check`` | ``### Quick Check`` multiple choice, ``->`` marks the answer |
| ``interview-quiz`` | ``<InterviewQuiz question options correctAnswer explanation />`` |
| ``junior-vs-senior`` | ``<JuniorVsSenior juniorAnswer seniorAnswer>`` contrasts |
| ``callouts`` | ``> **Common Mistake:**`` then ``> **Senior Engineer Approach:**`` |
| ``tables`` | GFM table rows as facts (not tables of contents) |
| ``section-text`` | what no rule took, as the open section's text (last) |
"""

from __future__ import annotations

from guidedeck.parse.family import (
    callouts,
    interview_quiz,
    junior_vs_senior,
    question_sections,
    quick_check,
    tables,
)
from guidedeck.parse.family.state import Extracted, Rule, State

RULES: tuple[Rule, ...] = (
    question_sections.OPEN,
    quick_check.RULE,
    interview_quiz.RULE,
    junior_vs_senior.RULE,
    callouts.RULE,
    tables.RULE,
    question_sections.TEXT,
)
COMPONENTS = frozenset(name for rule in RULES for name in rule.components)
"""MDX components the rules read whole; any other component is unwrapped."""

__all__ = ["COMPONENTS", "RULES", "Extracted", "Rule", "State"]
