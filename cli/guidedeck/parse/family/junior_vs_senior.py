"""``<JuniorVsSenior juniorAnswer=… seniorAnswer=…>body</JuniorVsSenior>``: a contrast card.

The sides may be strings, template strings of code, or objects ``{ title, text, code }``;
``wrongAnswer``/``rightAnswer`` and the like are read as sides too.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from guidedeck.models import Answer, Contrast
from guidedeck.parse.blocks import Block
from guidedeck.parse.family.state import Rule, State, component, is_prose
from guidedeck.parse.jsx import Attr, JsValue, TemplateString, as_text
from guidedeck.parse.sections import excerpt_of

NAME = "JuniorVsSenior"
EXPLANATION_BUDGET = 2_500
"""Characters of a comparison's body shown on its card; a whole answer wrapped in the component
(some run to 17,000 characters) is cut between blocks and marked as continuing in the guide."""
_MISTAKE_SIDES = ("juniorAnswer", "junior", "mistake", "wrongAnswer", "wrong", "badAnswer")
_SENIOR_SIDES = ("seniorAnswer", "senior", "rightAnswer", "right", "goodAnswer")
_SIDE_WORD = re.compile(r"(?:Answer|Code|Approach)$")


def _junior_vs_senior(state: State, items: list[Block], i: int) -> int | None:
    block = items[i]
    if not component(block, NAME):
        return None
    tag = block.tag
    assert tag is not None
    loc = state.loc(block.line, state.src.position(tag.start)[1])
    attrs = tag.attrs
    language = _string_attr(attrs, "language") or _string_attr(attrs, "lang")
    sides: list[Answer] = []
    for names in (_MISTAKE_SIDES, _SENIOR_SIDES):
        attr = next((attrs[n] for n in names if n in attrs), None)
        if attr is None:
            state.warning(loc, f"<{tag.name}> lacks {names[0]}; contrast skipped")
            return i + 1
        side = _answer(attr.value, language)
        if side is None:
            state.warning(
                state.attr_loc(attr),
                f"{attr.name} must be a string or an object "
                'like {{ title: "...", code: `...` }}; contrast skipped',
            )
            return i + 1
        sides.append(_explained(side, attr.name, attrs))
    body = block.children if block.type == "mdx_wrapper" else []
    parts = [_string_attr(attrs, "explanation").strip()]
    parts.extend(state.src.lines(b.line, b.end) for b in body if is_prose(b))
    explanation = excerpt_of([p for p in parts if p.strip()], EXPLANATION_BUDGET)
    if state.section is not None:
        state.section.comparison(body)
    state.add_contrast(Contrast(loc, sides[0], sides[1], explanation, state.question, tag.name))
    return i + 1


def _string_attr(attrs: dict[str, Attr], name: str) -> str:
    value = attrs[name].value if name in attrs else ""
    return as_text(value) if isinstance(value, str) else ""


def _explained(side: Answer, attr_name: str, attrs: dict[str, Attr]) -> Answer:
    """``side`` with the text of ``juniorExplanation=`` (for ``juniorAnswer``) and the like."""
    stem = _SIDE_WORD.sub("", attr_name)
    extra = [
        _string_attr(attrs, stem + suffix).strip()
        for suffix in ("Explanation", "Reason", "Why", "Note")
    ]
    extra = [e for e in extra if e and e not in side.text]
    if not extra:
        return side
    return replace(side, text="\n\n".join([side.text, *extra]).strip())


def _answer(value: JsValue, language: str) -> Answer | None:
    if (
        isinstance(value, TemplateString)
        and "\n" in value.strip()
        and not value.lstrip().startswith("```")
    ):
        return Answer(code=_dedent_code(value), language=language)
    if isinstance(value, str):
        return Answer(text=as_text(value.strip())) if value.strip() else None
    if isinstance(value, dict):

        def get(*keys: str) -> str:
            for key in keys:
                item = value.get(key)
                if isinstance(item, str):
                    return item
            return ""

        answer = Answer(
            text=as_text(get("text", "description", "explanation", "answer").strip()),
            code=_dedent_code(get("code")),
            language=get("language", "lang") or language,
            title=as_text(get("title", "label").strip()),
        )
        return answer if answer.text or answer.code or answer.title else None
    return None


def _dedent_code(code: str) -> str:
    return textwrap.dedent(code.strip("\n")).rstrip()


RULE = Rule("junior-vs-senior", block=_junior_vs_senior, components=frozenset({NAME}))

__all__ = ["NAME", "RULE"]
