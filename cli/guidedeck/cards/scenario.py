"""The scenario kind: a question section as a whole, its set-up in front, its answer behind."""

from __future__ import annotations

import html
from typing import Any

from guidedeck.cards.spec import KindSpec, NotetypeSpec
from guidedeck.cards.spec import key_name as slug_name
from guidedeck.kinds import CardKind
from guidedeck.models import Scenario
from guidedeck.resources import data_dir

NOTETYPE = NotetypeSpec(
    CardKind.SCENARIO,
    1640428615253,
    "guidedeck Scenario",
    ("ID", "Guide", "Title", "Type", "Category", "Scenario", "Challenge", "Outline", "Source"),
    "Title",
)


def fields(card: Scenario, _guide: Any, _shuffle: bool) -> dict[str, str]:
    """The scenario's note fields: the question's card, or the card of one part of its answer
    (see :mod:`guidedeck.parse.answers`)."""
    from guidedeck.render import inline_html, markdown_html

    q = card.question
    back = [_outline(card)]
    if card.answer:
        back.append(f'<div class="gd-answer-text">{markdown_html(card.answer)}</div>')
    if card.part == 0 and card.parts:
        more = (
            f"The answer point by point: {card.parts} more card(s), one per point."
            if card.outline
            else f"Part 1 of {card.parts}: the answer goes on in {card.parts - 1} more card(s)."
        )
        back.append(f'<p class="gd-parts-note">{more}</p>')  # fmt: skip
    back.extend(
        f'<section class="gd-reveal"><h4 class="gd-reveal-label">{html.escape(r.label)}</h4>'
        f"{markdown_html(r.text)}</section>"
        for r in card.reveals
    )
    return {
        "Title": inline_html(q.title)
        + (f" (part {card.part} of {card.parts})" if card.part else ""),
        "Type": html.escape(q.type),
        "Category": html.escape(q.category),
        "Scenario": markdown_html(card.scenario),
        "Challenge": _prompt(card) if card.part else markdown_html(card.challenge),
        # the field keeps its released name; it holds the whole answer side
        "Outline": "".join(back),
    }


def _outline(card: Scenario) -> str:
    """The answer's points: on the question's card with their key content when the answer has
    part cards; on a part's card with its own point marked (where the card sits)."""
    from guidedeck.render import inline_html

    if not card.outline or (card.part == 0 and not card.parts):
        return ""  # the whole answer follows, its points in it
    items = []
    for item in card.outline:
        here = ' gd-here" aria-current="step' if card.part and item.title == card.point else ""
        # the overview shows each point's key content; a part's card its own whole text
        key = "" if card.part or not item.key else (
            f'<span class="gd-key"> — {inline_html(item.key)}</span>')  # fmt: skip
        items.append(f'<li class="gd-level-{item.level}{here}">{inline_html(item.title)}{key}</li>')
    return f'<ol class="gd-outline">{"".join(items)}</ol>'


def _prompt(card: Scenario) -> str:
    """A part's front: which part of the answer to give (the question is its title)."""
    from guidedeck.render import inline_html

    where = f"Part {card.part} of {card.parts}"
    if card.point:
        more = f" (continued, {card.piece})" if card.piece > 1 else ""
        return (f'<p class="gd-part-prompt">{where} of the answer: '
                f"<strong>{inline_html(card.point)}</strong>{more}</p>")  # fmt: skip
    asked = "how does it start?" if card.part == 1 else "how does it go on?"
    return f'<p class="gd-part-prompt">{where} of the answer: {asked}</p>'


def key_name(card: Scenario) -> str:
    """The question's card is named by its question alone; a part by its point's title (never
    by its place: inserting a step leaves the others' notes alone)."""
    if card.part == 0:
        return ""
    if not card.point:
        return f"part-{card.part}"
    name = slug_name(card.point) or f"part-{card.part}"
    return f"{name}-{card.piece}" if card.piece > 1 else name


def as_dict(card: Scenario) -> dict[str, Any]:
    """The scenario for ``list --format json``."""
    q = card.question
    data: dict[str, Any] = {
        "number": q.number,
        "title": q.title,
        "type": q.type,
        "category": q.category,
        "scenario": card.scenario,
        "challenge": card.challenge,
        "outline": [item.title for item in card.outline],
    }
    if card.answer:
        data.update(answer=card.answer)
    if card.part:
        data.update(part=card.part, parts=card.parts, point=card.point)
    elif card.parts:
        data.update(parts=card.parts, keys=[item.key for item in card.outline])
    if card.reveals:
        data.update(reveals=[{"label": r.label, "text": r.text} for r in card.reveals])
    return data


SPEC = KindSpec(
    kind=CardKind.SCENARIO,
    model=Scenario,
    notetype=NOTETYPE,
    templates=data_dir("templates") / "scenario",
    content_fields=("Title", "Type", "Category", "Scenario", "Challenge", "Outline"),
    fields=fields,
    key_name=key_name,
    as_dict=as_dict,
    summary=lambda card: (
        f"Q{card.question.number}: {card.question.title}"
        + (f" (part {card.part} of {card.parts})" if card.part else "")
    ),
    keyed_by_section=True,
)
