"""Which language a piece of code is in, when its author did not say.

Code in a component attribute (``juniorAnswer={{ code: `...` }}``) has no fence to name its
language. It is nearly always in the language of the fences around it, so the guess goes: the
question's own fences, then the guide's most used fence language, then a ``#!`` line read by
Pygments. Fences are never guessed: a fence without a language (logs, trees, output) stays plain.
"""

from __future__ import annotations

from collections import Counter

from pygments.lexers import guess_lexer
from pygments.util import ClassNotFound

from guidedeck.highlight import PLAIN, fence_language, lexer_for
from guidedeck.models import Question


class LanguageCounter:
    """Fence languages seen in a guide, overall and per question section."""

    def __init__(self) -> None:
        self.guide: Counter[str] = Counter()
        self.questions: dict[Question, Counter[str]] = {}

    def add(self, info: str, question: Question | None) -> None:
        """Count a fence's language (``info`` is its info string) for the guide or a question.

        The guide-wide count is fed separately (with ``question=None``) so that a fence is
        counted once there, whichever pass sees it.
        """
        language = fence_language(info)
        if not language or lexer_for(language) is None:
            return
        if question is None:
            self.guide[language] += 1
        else:
            self.questions.setdefault(question, Counter())[language] += 1

    def infer(self, code: str, question: Question | None) -> str:
        """The language to highlight ``code`` in ("" for plain text)."""
        own = self.questions.get(question) if question is not None else None
        for counter in (own, self.guide):
            if counter:
                return counter.most_common(1)[0][0]
        return guess(code)


def guess(code: str) -> str:
    """The language a ``#!`` line names (``#!/usr/bin/env python3``), else "".

    Pygments' guess from the text alone was measured too often wrong to colour code by it (Go
    taken for Python, Python for GDScript, each with full confidence); plain text is better
    than wrong colours. A shebang, though, it reads reliably.
    """
    if not code.lstrip().startswith("#!"):
        return ""
    try:
        lexer = guess_lexer(code.lstrip())
    except ClassNotFound:
        return ""
    if not lexer.aliases or lexer.aliases[0] in PLAIN or lexer.analyse_text(code.lstrip()) < 1:
        return ""
    return str(lexer.aliases[0])


__all__ = ["LanguageCounter", "guess"]
