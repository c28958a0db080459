"""The scenario kind: a question section as a whole, its set-up in front, its answer behind."""

from __future__ import annotations

import html
from typing import Any

from guidedeck.cards.spec import KindSpec, NotetypeSpec
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
    """The scenario's note fields."""
    from guidedeck.render import inline_html, markdown_html

    q = card.question
    outline = "".join(
        f'<li class="gd-level-{item.level}">{inline_html(item.title)}</li>' for item in card.outline
    )
    back = [f'<ol class="gd-outline">{outline}</ol>' if outline else ""]
    if card.answer:
        back.append(f'<div class="gd-answer-text">{markdown_html(card.answer)}</div>')
    back.extend(
        f'<section class="gd-reveal"><h4 class="gd-reveal-label">{html.escape(r.label)}</h4>'
        f"{markdown_html(r.text)}</section>"
        for r in card.reveals
    )
    return {
        "Title": inline_html(q.title),
        "Type": html.escape(q.type),
        "Category": html.escape(q.category),
        "Scenario": markdown_html(card.scenario),
        "Challenge": markdown_html(card.challenge),
        # the field keeps its released name; it holds the whole answer side
        "Outline": "".join(back),
    }


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
    key_name=lambda _card: "",
    as_dict=as_dict,
    summary=lambda card: f"Q{card.question.number}: {card.question.title}",
    keyed_by_section=True,
)
