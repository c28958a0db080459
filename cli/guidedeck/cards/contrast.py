"""The contrast kind: a common mistake against the senior engineer's approach."""

from __future__ import annotations

from typing import Any

from guidedeck.cards.spec import KindSpec, NotetypeSpec, key_name
from guidedeck.kinds import CardKind
from guidedeck.models import Answer, Contrast
from guidedeck.resources import data_dir

NOTETYPE = NotetypeSpec(
    CardKind.CONTRAST,
    1666611976093,
    "guidedeck Contrast",
    ("ID", "Guide", "Section", "Mistake", "Senior", "Explanation", "Source"),
    "Mistake",
)


def answer_html(answer: Answer) -> str:
    """One side: its title, prose and code."""
    from guidedeck.highlight import highlight
    from guidedeck.render import inline_html, markdown_html

    parts = []
    if answer.title:
        parts.append(f'<p class="gd-side-title">{inline_html(answer.title)}</p>')
    if answer.text:
        parts.append(markdown_html(answer.text))
    if answer.code:
        parts.append(highlight(answer.code, answer.language))
    return "".join(parts)


def fields(card: Contrast, _guide: Any, _shuffle: bool) -> dict[str, str]:
    """The contrast's note fields."""
    from guidedeck.parse.answers import PART_WORDS, fit, prose_words
    from guidedeck.render import inline_html, markdown_html, section_html

    part = f'<span class="gd-part-name">{inline_html(card.part)}</span>' if card.part else ""
    sides = sum(prose_words(f"{s.title}\n\n{s.text}") for s in (card.mistake, card.senior))
    return {
        "Section": " · ".join(p for p in (section_html(card), part) if p),
        "Mistake": answer_html(card.mistake),
        "Senior": answer_html(card.senior),
        "Explanation": markdown_html(fit(card.explanation, PART_WORDS - sides)),
    }


def _side(answer: Answer) -> dict[str, str]:
    return {"title": answer.title, "text": answer.text, "code": answer.code,
            "language": answer.language}  # fmt: skip


def as_dict(card: Contrast) -> dict[str, Any]:
    """The contrast for ``list --format json``."""
    data: dict[str, Any] = {
        "mistake": _side(card.mistake),
        "senior": _side(card.senior),
        "explanation": card.explanation,
        "origin": card.origin,
    }
    if card.part:
        data.update(part=card.part)
    return data


def _mistake(card: Contrast) -> str:
    side = card.mistake
    return side.title or side.text or side.code


SPEC = KindSpec(
    kind=CardKind.CONTRAST,
    model=Contrast,
    notetype=NOTETYPE,
    templates=data_dir("templates") / "contrast",
    content_fields=("Mistake", "Senior", "Explanation"),
    fields=fields,
    key_name=lambda card: key_name(_mistake(card)),
    as_dict=as_dict,
    summary=_mistake,
)
