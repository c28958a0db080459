"""``<details><summary>QUESTION</summary> ANSWER </details>``: a question in the summary."""

from __future__ import annotations

import re

from guidedeck.parse.dialects.base import Context, is_question, split_blocks

_SUMMARY_OPEN = re.compile(r"\s*<summary\b[^>]*>", re.IGNORECASE)
_SUMMARY_CLOSE = re.compile(r"</summary\s*>", re.IGNORECASE)
MAX_SUMMARY = 4_000
"""Longest summary read as a question (the longest real one is under 300 characters): the
search for its end is bounded, so many unclosed summaries cost linear time, not quadratic."""
_TAGS = re.compile(r"<(/?)details\b[^>]*>", re.IGNORECASE)
_LEAD = re.compile(r"^(?:\s|<br\s*/?>|<p>)+", re.IGNORECASE)
_TRAIL_TAG = re.compile(r"(?:<br\s*/?>|</p>)$", re.IGNORECASE)


class DetailsQuestions:
    """Collections such as "test your sysadmin skills": the question is the summary."""

    name = "details"

    def _questions(self, ctx: Context) -> list[tuple[int, str, str]]:
        text = ctx.src.text
        found: list[tuple[int, str, str]] = []
        inside = -1  # a question's answer runs to here: details within it are part of it
        for start, end, close in _pairs(text):
            if start < inside:
                continue
            # the summary opens its details; its end is looked for a bounded way only
            opened = _SUMMARY_OPEN.match(text, end, close)
            if opened is None:
                continue
            bound = min(close, opened.end() + MAX_SUMMARY)
            closed = _SUMMARY_CLOSE.search(text, opened.end(), bound)
            if closed is None:
                continue
            summary = text[opened.end() : closed.start()]
            if not is_question(summary):
                continue  # a label ("Answer", "See Class"): details inside it may still ask
            answer = _trim(text[closed.end() : close])
            found.append((ctx.src.position(start)[0] - 1, summary, answer))
            inside = close
        return found

    def detect(self, ctx: Context) -> int:
        """Summaries that are questions."""
        return len(self._questions(ctx))

    def extract(self, ctx: Context) -> None:
        """A card per question with an answer."""
        for line0, question, answer in self._questions(ctx):
            ctx.question_card(line0, question, "", split_blocks(answer))


def _trim(answer: str) -> str:
    """``answer`` without the blank space, ``<br>`` and ``<p>``/``</p>`` around it (a loop, not
    a regex anchored at the end: that one is quadratic in a long run of spaces)."""
    answer = _LEAD.sub("", answer)
    while True:
        answer = answer.rstrip()
        tail = _TRAIL_TAG.search(answer, max(0, len(answer) - 16))
        if tail is None:
            return answer
        answer = answer[: tail.start()]


def _pairs(text: str) -> list[tuple[int, int, int]]:
    """(start, end of the opening tag, start of the closing tag) of every ``<details>``, in
    order of opening, in one pass; one never closed runs to the end of the text."""
    stack: list[tuple[int, int]] = []
    pairs: list[tuple[int, int, int]] = []
    for tag in _TAGS.finditer(text):
        if not tag.group(1):
            stack.append((tag.start(), tag.end()))
        elif stack:
            start, end = stack.pop()
            pairs.append((start, end, tag.start()))
    pairs.extend((start, end, len(text)) for start, end in stack)
    return sorted(pairs)
