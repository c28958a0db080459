"""The card kinds guidedeck makes, one module each, registered in one :data:`KINDS`.

| kind | module | made from |
|---|---|---|
| ``quiz`` | :mod:`.quiz` | Quick Checks, ``<InterviewQuiz>``, other conventions' choices |
| ``fact`` | :mod:`.fact` | table rows |
| ``contrast`` | :mod:`.contrast` | Common Mistake / Senior Approach pairs, ``<JuniorVsSenior>`` |
| ``scenario`` | :mod:`.scenario` | question sections |

Every stage (render, keys, matching, lock validation, packaging, listing, the summary) looks a
card's kind up here instead of testing its type.
"""

from __future__ import annotations

from guidedeck.cards import contrast, fact, quiz, scenario
from guidedeck.cards.spec import KindSpec, NotetypeSpec, Registry

KINDS = Registry()
for _module in (quiz, fact, contrast, scenario):
    KINDS.add(_module.SPEC)

__all__ = ["KINDS", "KindSpec", "NotetypeSpec", "Registry"]
