"""One question per file: front matter ``title:`` asks, the body answers."""

from __future__ import annotations

from guidedeck.parse.dialects.base import Context, is_question, lines_of


class SingleQuestionFile:
    """Collections such as the front-end interview handbook's quiz: one ``.mdx`` per question."""

    name = "single-file"

    def detect(self, ctx: Context) -> int:
        """1 when the front matter's title is a question and a body follows."""
        title = ctx.front_matter.get("title")
        body = [b for b in ctx.tree if b.type != "front_matter"]
        return int(isinstance(title, str) and is_question(title) and bool(body))

    def extract(self, ctx: Context) -> None:
        """The file as one card: title (and subtitle) in front, the body behind."""
        if not self.detect(ctx):
            return
        title = str(ctx.front_matter["title"])
        subtitle = ctx.front_matter.get("subtitle")
        body = [b for b in ctx.tree if b.type != "front_matter"]
        front = str(subtitle) if isinstance(subtitle, str) else ""
        ctx.question_card(0, title, front, lines_of(ctx, body), end=len(ctx.src.starts))
