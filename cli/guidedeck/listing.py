"""Cards as plain data (for ``guidedeck list --format json``) and as one-line summaries."""

from __future__ import annotations

from typing import Any

from guidedeck.models import Answer, Card, Contrast, Fact, Quiz, Scenario


def _answer(answer: Answer) -> dict[str, str]:
    return {
        "title": answer.title,
        "text": answer.text,
        "code": answer.code,
        "language": answer.language,
    }


def card_dict(card: Card) -> dict[str, Any]:
    """Kind, ``path:line`` source, the question section, and the card's content fields."""
    section = card.section
    data: dict[str, Any] = {
        "kind": card.kind.value,
        "source": str(card.loc),
        "section": section.title if section is not None else None,
    }
    if isinstance(card, Quiz):
        data.update(
            question=card.prompt,
            options=list(card.options),
            correct=card.correct,
            answer=chr(ord("A") + card.correct),
            explanation=card.explanation,
            origin=card.origin,
        )
    elif isinstance(card, Fact):
        data.update(context=card.context, headers=list(card.headers), cells=list(card.cells))
        if card.given or card.numbered:
            data.update(given=card.headers[card.given] if card.given else None, row=card.row + 1)
    elif isinstance(card, Contrast):
        data.update(
            mistake=_answer(card.mistake),
            senior=_answer(card.senior),
            explanation=card.explanation,
            origin=card.origin,
        )
        if card.part:
            data.update(part=card.part)
    elif isinstance(card, Scenario):
        q = card.question
        data.update(
            number=q.number,
            title=q.title,
            type=q.type,
            category=q.category,
            scenario=card.scenario,
            challenge=card.challenge,
            outline=[item.title for item in card.outline],
        )
        if card.answer:
            data.update(answer=card.answer)
        if card.reveals:
            data.update(reveals=[{"label": r.label, "text": r.text} for r in card.reveals])
    return data


def summary(card: Card, width: int = 80) -> str:
    """One line saying what the card asks."""
    if isinstance(card, Quiz):
        text = card.prompt
    elif isinstance(card, Fact):
        text = f"{card.context}: {card.cells[0]}"
    elif isinstance(card, Contrast):
        text = card.mistake.title or card.mistake.text or card.mistake.code
    else:
        text = f"Q{card.question.number}: {card.question.title}"
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "\u2026"
