"""The quiz kind: a multiple-choice question answered with a tap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guidedeck.cards.spec import KindSpec, NotetypeSpec, key_name
from guidedeck.kinds import CardKind
from guidedeck.models import Quiz
from guidedeck.resources import data_dir

NOTETYPE = NotetypeSpec(
    CardKind.QUIZ,
    1653766121336,
    "guidedeck Quiz",
    ("ID", "Guide", "Section", "Question", "Options", "Answer", "Explanation", "Source"),
    "Question",
)


def options_html(options: Sequence[str], shuffle: bool = False) -> str:
    """The options as a tappable list, lettered A, B, C ..."""
    from guidedeck.render import inline_html

    items = []
    for n, option in enumerate(options):
        letter = chr(ord("A") + n)
        items.append(
            f'<li class="gd-option gd-option-{letter}" data-key="{letter}" data-option="{letter}">'
            f'<span class="gd-letter">{letter}</span>'
            f'<span class="gd-option-text">{inline_html(option)}</span></li>'
        )
    # data-shuffle asks the card's script to shuffle the options on each review
    attrs = ' data-shuffle="true"' if shuffle else ""
    return f'<ol class="gd-options"{attrs}>{"".join(items)}</ol>'


def fields(card: Quiz, _guide: Any, shuffle: bool) -> dict[str, str]:
    """The quiz's note fields."""
    from guidedeck.parse.answers import PART_WORDS, fit, prose_words
    from guidedeck.render import markdown_html, section_html

    # the back shows the question and its options again: the explanation gets what is left
    shown = prose_words(card.prompt) + sum(prose_words(o) for o in card.options)
    return {
        "Section": section_html(card),
        "Question": markdown_html(card.prompt),
        "Options": options_html(card.options, shuffle),
        "Answer": chr(ord("A") + card.correct),
        "Explanation": markdown_html(fit(card.explanation, PART_WORDS - shown)),
    }


def as_dict(card: Quiz) -> dict[str, Any]:
    """The quiz for ``list --format json``."""
    return {
        "question": card.prompt,
        "options": list(card.options),
        "correct": card.correct,
        "answer": chr(ord("A") + card.correct),
        "explanation": card.explanation,
        "origin": card.origin,
    }


SPEC = KindSpec(
    kind=CardKind.QUIZ,
    model=Quiz,
    notetype=NOTETYPE,
    templates=data_dir("templates") / "quiz",
    content_fields=("Question", "Options", "Answer", "Explanation"),
    fields=fields,
    key_name=lambda card: key_name(card.prompt),
    as_dict=as_dict,
    summary=lambda card: card.prompt,
)
