"""``<details><summary>QUESTION</summary> ANSWER </details>``: a question in the summary."""

from __future__ import annotations

import re

from guidedeck.parse.dialects.base import Context, is_question, split_blocks

_SUMMARY = re.compile(r"<summary\b[^>]*>(?P<text>.*?)</summary\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<(/?)details\b[^>]*>", re.IGNORECASE)
_LEAD = re.compile(r"^(?:\s|<br\s*/?>|<p>)+", re.IGNORECASE)
_TRAIL = re.compile(r"(?:\s|<br\s*/?>|</p>)+$", re.IGNORECASE)


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
            # the summary is searched within its own details only: bounded, so linear overall
            summary = _SUMMARY.search(text, end, close)
            if summary is None or not is_question(summary["text"]):
                continue  # a label ("Answer", "See Class"): details inside it may still ask
            answer = _TRAIL.sub("", _LEAD.sub("", text[summary.end() : close]))
            found.append((text.count("\n", 0, start), summary["text"], answer))
            inside = close
        return found

    def detect(self, ctx: Context) -> int:
        """Summaries that are questions."""
        return len(self._questions(ctx))

    def extract(self, ctx: Context) -> None:
        """A card per question with an answer."""
        for line0, question, answer in self._questions(ctx):
            ctx.question_card(line0, question, "", split_blocks(answer))


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
