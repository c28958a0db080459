"""Card models from the block tree: the walk that offers each block to the family's rules.

One pass over the guide's top-level blocks (unknown MDX components unwrapped, so their Markdown
children count) keeps the context every card needs, the nearest heading and the question
section, and offers each block to the rules of :data:`guidedeck.parse.family.RULES` in turn.
What concerns every card (duplicate quizzes, parts of a question's contrasts, code languages,
text too long for a card) is settled here once the rules are done.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import yaml

from guidedeck.cards import KINDS
from guidedeck.diagnostics import note
from guidedeck.models import Answer, Contrast, Question, Quiz
from guidedeck.parse import family
from guidedeck.parse.blocks import Block, Source
from guidedeck.parse.family import COMPONENTS
from guidedeck.parse.family.question_sections import QUESTION
from guidedeck.parse.family.state import Extracted, Rule, State, Visited, heading_level
from guidedeck.parse.sections import is_runner
from guidedeck.slugs import slugify

_PART_HEADING = re.compile(
    r"^\W*(?:the\s+)?(?:scenario|challenge|task|quick[\s-]*check)\W*$", re.IGNORECASE
)
_ATTR_LINE = re.compile(r"^[ \t]+([A-Za-z_][\w-]*)=[{\"']", re.MULTILINE)
_ORPHAN_END = re.compile(r"^[ \t]*/>[ \t]*\Z", re.MULTILINE)
_OPENER = re.compile(r"^[ \t]*<[A-Za-z]", re.MULTILINE)
_CODE_END = re.compile(r"[{}();,>\[\]`]\s*$")
_SKIP = re.compile(r"^\s*<!--\s*guidedeck\s*:\s*skip\s*-->\s*$", re.IGNORECASE)


def flatten(blocks: list[Block], known: frozenset[str] = COMPONENTS) -> Iterator[Block]:
    """Blocks in order, with MDX wrappers no rule reads replaced by their children."""
    for block in blocks:
        tag = block.tag
        if (
            block.type == "mdx_wrapper"
            and tag is not None
            and tag.name not in known
            and not is_runner(block)
        ):
            yield from flatten(block.children, known)
        else:
            yield block


def extract(
    path: str, source: Source, tree: list[Block], rules: Sequence[Rule] | None = None
) -> Extracted:
    """Every card ``rules`` find in ``tree`` (the guide's top-level blocks), finished."""
    return finish(walk(path, source, tree, rules))


def walk(
    path: str, source: Source, tree: list[Block], rules: Sequence[Rule] | None = None
) -> State:
    """Offer each top-level block of ``tree`` to ``rules`` (by default the rule list as it is
    now: a kind of card may register its own rule there); the cards they found, unfinished
    (other plugins may add theirs before :func:`finish`)."""
    rules = family.RULES if rules is None else rules
    state = State(path, source)
    _report_structure(state, tree)
    known = frozenset(name for rule in rules for name in rule.components)
    items = _drop_orphans(state, list(flatten(tree, known)))
    for block in _all_blocks(tree):
        if block.type == "fence":
            state.languages.add(block.token.info, None)
    i = 0
    while i < len(items):
        block = items[i]
        if block.type == "html_block" and _SKIP.match(block.token.content):
            i = _skip(state, items, i + 1)
            continue
        _note_context(state, block)
        question = state.question
        taken = next(
            (took for rule in rules
             if rule.block is not None and (took := rule.block(state, items, i)) is not None),
            i + 1,
        )  # fmt: skip
        state.visited.extend(Visited(b, state.heading, question) for b in items[i:taken])
        state.after_rule = block.type == "hr"
        i = taken
    for rule in rules:
        if rule.finish is not None:
            rule.finish(state)
    _skip_kinds(state)
    return state


def _note_context(state: State, block: Block) -> None:
    """What a block tells of where the walk stands: the title, the nearest heading, the front
    matter, the code languages of the open question."""
    if block.type == "heading":
        if heading_level(block) == 1 and not state.out.title:
            state.out.title = block.text.strip()
        state.heading = block.text.strip()
    elif block.type == "front_matter":
        _front_matter(state, block)
    elif state.section is not None:
        for inner in block.walk():
            if inner.type == "fence":
                state.languages.add(inner.token.info, state.section.question)


def _skip(state: State, items: list[Block], i: int) -> int:
    """Leave out what a ``<!-- guidedeck: skip -->`` marker stands before: a heading's whole
    section (to the next heading of its level or above), else the next block. Returns where
    the walk goes on."""
    if i >= len(items):
        return i
    first = items[i]
    end = i + 1
    if first.type == "heading":
        ends = _question_ends if QUESTION.match(first.text.strip()) else _heading_ends
        while end < len(items) and not ends(items, end, heading_level(first)):
            end += 1
        what = f"the section {first.text.strip()[:60]!r}"
    else:
        what = {"table": "a table", "fence": "a code block"}.get(first.type, "a block")
    last = items[end - 1].end
    state.out.diagnostics.append(note(state.loc(first.line),
        f"{what} (to line {last}) left out by its <!-- guidedeck: skip --> marker"))  # fmt: skip
    return end


def _heading_ends(items: list[Block], n: int, level: int) -> bool:
    """Whether ``items[n]`` ends the section of a heading of ``level``."""
    return items[n].type == "heading" and heading_level(items[n]) <= level


def _question_ends(items: list[Block], n: int, _level: int) -> bool:
    """Whether ``items[n]`` ends a question section, as the question rule closes one: the next
    question, a title, or a level-2 heading after a rule (its parts' ``##`` headings are its)."""
    block = items[n]
    if block.type != "heading":
        return False
    level = heading_level(block)
    after_rule = n > 0 and items[n - 1].type == "hr"
    return bool(QUESTION.match(block.text.strip())) or level == 1 or (level == 2 and after_rule)


def _skip_kinds(state: State) -> None:
    """Drop the cards of the kinds the front matter leaves out (``guidedeck: {skip: [fact]}``)."""
    for kind in sorted(state.skip_kinds):
        kept = 0
        every: list[list[Any]] = [state.out.quizzes, state.out.facts, state.out.contrasts,
                                  state.out.scenarios, state.out.others]  # fmt: skip
        for found in every:
            before = len(found)
            found[:] = [c for c in found if c.kind.value != kind]
            kept += before - len(found)
        state.out.diagnostics.append(note(state.loc(0),
            f"{kept} {kind} card(s) left out: the front matter skips the kind"))  # fmt: skip


def finish(state: State) -> Extracted:
    """What concerns every card, whichever plugin made it: repeated quizzes, the part names of
    a question's contrasts, code languages, and text too long for a card."""
    _check_duplicate_quizzes(state)
    _name_contrast_parts(state)
    _infer_languages(state)
    _cap_texts(state)
    return state.out


def _report_structure(state: State, tree: list[Block]) -> None:
    """Trim component tags out of their children's text; report what the parser skipped."""
    for block in _all_blocks(tree):
        if block.type in ("mdx_wrapper", "mdx_component") and block.tag is not None:
            _clip_tags(state, block)
        elif block.type == "mdx_error":
            line, col = state.src.position(int(block.token.meta["pos"]))
            state.warning(state.loc(line - 1, col), str(block.token.meta["message"]))
        elif block.type == "nesting_error":
            state.warning(
                state.loc(block.line),
                f"quotes or lists nested too deeply; lines {block.line + 1} to {block.end} skipped",
            )


def _clip_tags(state: State, block: Block) -> None:
    body = block.token.meta.get("body")
    tag = block.tag
    if tag is None or not body:
        return
    src = state.src
    start_line, _ = src.position(tag.end)
    if body[0] == start_line - 1:
        src.clip(body[0], lo=tag.end)
    last = body[1] - 1
    if last == block.end - 1:
        # the closer shares a line with the children: cut it off
        close_at = src.text.rfind("</" + tag.name, src.starts[last], src.line_end(last))
        if close_at >= 0:
            src.clip(last, hi=close_at)


def _front_matter(state: State, block: Block) -> None:
    try:
        data = yaml.safe_load(block.token.content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = block.line + 1 + (mark.line if mark else 0)
        state.warning(state.loc(line), f"front matter is not valid YAML: {exc}")
        return
    if isinstance(data, dict) and isinstance(data.get("title"), str) and not state.out.title:
        state.out.title = data["title"].strip()
    own = data.get("guidedeck") if isinstance(data, dict) else None
    skip = own.get("skip") if isinstance(own, dict) else None
    names = [skip] if isinstance(skip, str) else skip if isinstance(skip, list) else []
    for name in names:
        if isinstance(name, str) and name.strip().lower() in KINDS:
            state.skip_kinds.add(name.strip().lower())
        else:
            state.warning(state.loc(block.line), f"front matter: guidedeck.skip: {name!r} is "
                          f"not a card kind ({', '.join(sorted(KINDS))})")  # fmt: skip


def _drop_orphans(state: State, items: list[Block]) -> list[Block]:
    """Leave out what remains of a component whose opening ``<Name`` line is missing.

    Such text (attribute lines such as ``rightAnswer={`...`}`` ending in ``/>``, often after
    stray code) would otherwise land on a card as prose. It is reported instead.
    """
    src = state.src
    kept: list[Block] = []
    for block in items:
        if block.type not in ("paragraph", "html_block", "code_block"):
            kept.append(block)
            continue
        text = src.lines(block.line, block.end)
        first = _ATTR_LINE.search(text)
        if not (first and _ORPHAN_END.search(text)) or _OPENER.search(text, 0, first.start()):
            kept.append(block)
            continue
        attrs = _ATTR_LINE.findall(text)
        start = block.line
        while kept and _codelike(kept[-1], src):
            popped = kept.pop()
            start = popped.line
            attrs[:0] = _ATTR_LINE.findall(src.lines(popped.line, popped.end))
        names = ", ".join(dict.fromkeys(attrs))
        state.warning(
            state.loc(start),
            f"component attributes ({names}) end in '/>' at line {block.end} but the "
            f"component's opening '<Name' line is missing; lines {start + 1} to "
            f"{block.end} skipped",
        )
    return kept


def _check_duplicate_quizzes(state: State) -> None:
    seen: dict[str, Quiz] = {}
    for quiz in state.out.quizzes:
        key = " ".join(quiz.prompt.lower().split())
        if key in seen:
            state.warning(
                quiz.loc, f"quiz repeats the question at line {seen[key].loc.line}; both are kept"
            )
        else:
            seen[key] = quiz


def _name_contrast_parts(state: State) -> None:
    """Give each of several contrasts in one question a part name, so their fronts differ."""
    contrasts = state.out.contrasts
    groups: dict[Question | None, list[int]] = {}
    for n, contrast in enumerate(contrasts):
        groups.setdefault(contrast.section, []).append(n)
    for section, members in groups.items():
        if len(members) < 2 and section is not None:
            continue
        names = [_part_name(state, contrasts[n], section) for n in members]
        counts = Counter(names)
        for k, (n, name) in enumerate(zip(members, names, strict=True)):
            if not name or counts[name] > 1:
                place = f"part {k + 1} of {len(members)}"
                name = f"{name} ({place})" if name else place
            contrasts[n] = replace(contrasts[n], part=name)


def _part_name(state: State, contrast: Contrast, section: Question | None) -> str:
    heading = state.contexts.get(id(contrast), "").strip()
    if section is not None and (
        QUESTION.match(heading) or _PART_HEADING.match(heading) or heading == section.title
    ):
        return ""
    return heading


def _infer_languages(state: State) -> None:
    """Code a component gave without a language gets the one its surroundings use."""
    contrasts = state.out.contrasts
    for n, contrast in enumerate(contrasts):
        sides = []
        for side in (contrast.mistake, contrast.senior):
            if side.code and not side.language:
                side = replace(side, language=state.languages.infer(side.code, contrast.section))
            sides.append(side)
        if sides != [contrast.mistake, contrast.senior]:
            contrasts[n] = replace(contrast, mistake=sides[0], senior=sides[1])


def _cap_texts(state: State) -> None:
    out, cap = state.out, state.cap
    out.quizzes = [
        replace(
            q,
            prompt=cap(q.prompt, q.loc),
            explanation=cap(q.explanation, q.loc),
            options=tuple(cap(o, q.loc) for o in q.options),
        )
        for q in out.quizzes
    ]

    def capped(answer: Answer, c: Contrast) -> Answer:
        return replace(answer, text=cap(answer.text, c.loc), code=cap(answer.code, c.loc))

    out.contrasts = [
        replace(
            c,
            mistake=capped(c.mistake, c),
            senior=capped(c.senior, c),
            explanation=cap(c.explanation, c.loc),
        )
        for c in out.contrasts
    ]
    out.scenarios = [
        replace(
            s,
            scenario=cap(s.scenario, s.loc),
            challenge=cap(s.challenge, s.loc),
            answer=cap(s.answer, s.loc),
            reveals=tuple(replace(r, text=cap(r.text, r.loc)) for r in s.reveals),
        )
        for s in out.scenarios
    ]


def _codelike(block: Block, src: Source) -> bool:
    """True for a block that reads as loose code (most lines end like code, not prose)."""
    if block.type == "code_block":
        return True
    if block.type not in ("paragraph", "html_block"):
        return False
    lines = [ln for ln in src.lines(block.line, block.end).split("\n") if ln.strip()]
    code = sum(
        1 for ln in lines if _CODE_END.search(ln) or ln.lstrip().startswith(("//", "}", "<"))
    )
    return bool(lines) and code * 2 > len(lines)


def _all_blocks(tree: list[Block]) -> Iterator[Block]:
    for block in tree:
        yield from block.walk()


__all__ = ["Extracted", "extract", "finish", "flatten", "slugify", "walk"]
