"""``<details><summary>QUESTION</summary> ANSWER </details>``: a question in the summary."""

from __future__ import annotations

import re

from guidedeck.parse.dialects.base import Context, is_question, split_blocks

_OPEN = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
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
        pos = 0
        while True:
            opened = _OPEN.search(text, pos)
            if opened is None:
                return found
            summary = _SUMMARY.search(text, opened.end())
            close = _closing(text, opened.end())
            if summary is None or summary.start() > close or not is_question(summary["text"]):
                pos = opened.end()  # a label ("Answer", "See Class"): look inside it
                continue
            answer = _TRAIL.sub("", _LEAD.sub("", text[summary.end() : close]))
            line0 = text.count("\n", 0, opened.start())
            found.append((line0, summary["text"], answer))
            pos = close  # nested details belong to this answer

    def detect(self, ctx: Context) -> int:
        """Summaries that are questions."""
        return len(self._questions(ctx))

    def extract(self, ctx: Context) -> None:
        """A card per question with an answer."""
        for line0, question, answer in self._questions(ctx):
            ctx.question_card(line0, question, "", split_blocks(answer))


def _closing(text: str, start: int) -> int:
    """Offset of the ``</details>`` that closes the one opened before ``start``."""
    depth = 1
    for tag in _TAGS.finditer(text, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.start()
    return len(text)
