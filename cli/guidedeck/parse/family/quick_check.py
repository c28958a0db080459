"""``### Quick Check``: a bold question, options ``A.`` … with ``->`` before the right one, and
the explanation in ``<details>``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from guidedeck.diagnostics import SourceLoc
from guidedeck.models import Quiz
from guidedeck.parse.blocks import Block
from guidedeck.parse.family.state import Rule, State

_QUICK_CHECK = re.compile(r"^\W*quick[\s-]*check\W*$", re.IGNORECASE)
_OPTION = re.compile(
    r"^(?P<mark>->|=>|\u2192|\u279c)?\s*(?:\*\*)?(?P<letter>[A-H])[.)](?:\*\*)?(?:\s+(?P<text>.*))?$"
)
_WHOLLY_BOLD = re.compile(r"^\*\*(?P<inner>(?:(?!\*\*).)+)\*\*$", re.S)
_DETAILS_OPEN = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
_SUMMARY_CLOSE = re.compile(r"</summary\s*>", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Option:
    letter: str
    text: str
    correct: bool
    loc: SourceLoc


def _quick_check(state: State, items: list[Block], i: int) -> int | None:
    """Read the Quick Check opened by heading ``items[i]``; return the index after it.

    The block is: question blocks, option lines, then ``<details>``; it ends at ``---``, a
    heading, a component, text after the options, or the end of ``</details>``. Whatever
    follows goes back to the walk.
    """
    if items[i].type != "heading" or not _QUICK_CHECK.match(items[i].text.strip()):
        return None
    loc = state.loc(items[i].line)
    prompt: list[Block] = []
    options: list[_Option] = []
    details: list[Block] = []
    j = i + 1
    while j < len(items):
        block = items[j]
        if block.type in ("hr", "heading", "mdx_component", "mdx_wrapper"):
            break
        opens = block.type == "html_block" and _DETAILS_OPEN.search(block.token.content)
        if details or opens:
            details.append(block)
            j += 1
            if _DETAILS_CLOSE.search(state.src.lines(block.line, block.end)):
                break
            continue
        found = list(_options_in(state, block))
        if found:
            options.extend(found)
        elif options:
            break
        else:
            prompt.append(block)
        j += 1
    quiz = _parse(state, loc, prompt, options, details)
    if quiz is not None:
        state.out.quizzes.append(quiz)
    return j


def _parse(
    state: State,
    loc: SourceLoc,
    prompt_blocks: list[Block],
    options: list[_Option],
    details: list[Block],
) -> Quiz | None:
    explanation = _details(state, details) if details else None
    if not prompt_blocks:
        state.warning(
            loc, "Quick Check has no question (expected a bold line before the options); skipped"
        )
        return None
    if len(options) < 2:
        state.warning(
            loc, "Quick Check needs at least two options written 'A. ...', 'B. ...'; skipped"
        )
        return None
    marked = [o for o in options if o.correct]
    if len(marked) != 1:
        if marked:
            letters = ", ".join(o.letter for o in marked)
            state.warning(
                marked[1].loc,
                f"Quick Check marks {len(marked)} options as correct ({letters}); "
                "exactly one may start with '->'; skipped",
            )
        else:
            bold = [o.letter for o in options if _WHOLLY_BOLD.match(o.text)]
            hint = f" (option {bold[0]} is bold: did you mean '-> {bold[0]}.'?)" if bold else ""
            state.warning(loc, f"Quick Check marks no option as correct with '->'{hint}; skipped")
        return None
    expected = [chr(ord("A") + k) for k in range(len(options))]
    if [o.letter for o in options] != expected:
        got = ", ".join(o.letter for o in options)
        state.warning(options[0].loc, f"options are lettered {got}; expected {', '.join(expected)}")
    if explanation is None:
        state.warning(loc, "Quick Check has no <details> explanation")
    first = prompt_blocks[0]
    parts = [
        _unbold(first.text.strip())
        if first.type == "paragraph"
        else state.src.lines(first.line, first.end)
    ]
    parts.extend(state.src.lines(b.line, b.end) for b in prompt_blocks[1:])
    correct = next(k for k, o in enumerate(options) if o.correct)
    texts = [_unbold(o.text) if o.correct else o.text for o in options]
    return Quiz(
        loc,
        "\n\n".join(p for p in parts if p.strip()),
        tuple(texts),
        correct,
        explanation or "",
        state.question,
        "quick-check",
    )


def _options_in(state: State, block: Block) -> Iterator[_Option]:
    """Option lines of a paragraph, of list items, or of an indented code block."""
    if block.type == "paragraph":
        yield from _option_lines(state, block.line, block.text.split("\n"))
    elif block.type == "code_block":
        lines = block.token.content.rstrip("\n").split("\n")
        if all(_OPTION.match(ln.strip()) for ln in lines if ln.strip()):
            yield from _option_lines(state, block.line, lines)
    elif block.type in ("bullet_list", "ordered_list"):
        found: list[_Option] = []
        for item in block.children:
            paragraphs = [c for c in item.children if c.type == "paragraph"]
            if not paragraphs:
                return
            got = list(_option_lines(state, paragraphs[0].line, paragraphs[0].text.split("\n")))
            if not got:
                return
            found.extend(got)
        yield from found


def _option_lines(state: State, line0: int, lines: list[str]) -> Iterator[_Option]:
    """Options in consecutive lines; nothing when the first line is not an option."""
    current: list[str] | None = None
    meta: tuple[str, bool, SourceLoc] | None = None
    for n, raw in enumerate(lines):
        m = _OPTION.match(raw.strip())
        if m is None:
            if current is None:
                return
            current.append(raw.strip())
            continue
        if current is not None and meta is not None:
            yield _Option(meta[0], "\n".join(current).strip(), meta[1], meta[2])
        col = len(raw) - len(raw.lstrip()) + 1
        meta = (m.group("letter"), bool(m.group("mark")), state.loc(line0 + n, col))
        current = [m.group("text") or ""]
    if current is not None and meta is not None:
        yield _Option(meta[0], "\n".join(current).strip(), meta[1], meta[2])


def _details(state: State, blocks: list[Block]) -> str | None:
    """The explanation inside ``<details><summary>..</summary> ... </details>``."""
    if not blocks:
        return None
    start = blocks[0].line
    end = blocks[-1].end
    for block in blocks:
        if _DETAILS_CLOSE.search(state.src.lines(block.line, block.end)):
            end = block.end
            break
    text = state.src.lines(start, end)
    opened = _DETAILS_OPEN.search(text)
    if opened is None:
        return None
    begin = opened.end()
    summary = _SUMMARY_CLOSE.search(text, begin)
    if summary is not None:
        begin = summary.end()
    closed = _DETAILS_CLOSE.search(text, begin)
    inner = text[begin : closed.start() if closed else len(text)]
    return inner.strip() or None


def _unbold(text: str) -> str:
    m = _WHOLLY_BOLD.match(text.strip())
    return m.group("inner").strip() if m else text


RULE = Rule("quick-check", block=_quick_check)

__all__ = ["RULE"]
