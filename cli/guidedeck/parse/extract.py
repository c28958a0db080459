"""Card models from the block tree: quizzes, facts, contrasts and scenarios, with diagnostics.

One pass over the guide's top-level blocks (unknown MDX components unwrapped, so their Markdown
children count) keeps the context every card needs: the nearest heading and the question section.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import yaml

from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.models import (
    Answer,
    Contrast,
    Fact,
    Question,
    Quiz,
    Scenario,
    Table,
)
from guidedeck.parse.blocks import Block, Source
from guidedeck.parse.jsx import Attr, JsRaw, JsValue, TemplateString
from guidedeck.parse.languages import LanguageCounter
from guidedeck.parse.sections import SectionReader, excerpt_of, is_runner

QUIZ_COMPONENT = "InterviewQuiz"
EXPLANATION_BUDGET = 2_500
"""Characters of a comparison's body shown on its card; a whole answer wrapped in the component
(some run to 17,000 characters) is cut between blocks and marked as continuing in the guide."""
CONTRAST_COMPONENT = "JuniorVsSenior"
KNOWN_COMPONENTS = frozenset({QUIZ_COMPONENT, CONTRAST_COMPONENT})
OVERVIEW_HEADING = "questions overview"
MAX_TEXT = 20_000
"""Longest text a card field takes (the longest in the 16 real guides is about 1,000): longer
text is shortened with a warning, which also bounds the cost of rendering hostile input."""

_QUICK_CHECK = re.compile(r"^\W*quick[\s-]*check\W*$", re.IGNORECASE)
_QUESTION = re.compile(r"^question\s+(\d+)\s*[:.)\-\u2013\u2014]\s*(.+)$", re.IGNORECASE)
_TYPE = re.compile(r"\*\*type:?\*\*:?\s*([^|*\n]+)", re.IGNORECASE)
_CATEGORY = re.compile(r"\*\*category:?\*\*:?\s*([^|*\n]+)", re.IGNORECASE)
_OPTION = re.compile(
    r"^(?P<mark>->|=>|\u2192|\u279c)?\s*(?:\*\*)?(?P<letter>[A-H])[.)](?:\*\*)?(?:\s+(?P<text>.*))?$"
)
_WHOLLY_BOLD = re.compile(r"^\*\*(?P<inner>(?:(?!\*\*).)+)\*\*$", re.S)
_MISTAKE = re.compile(
    r"^\W*\*\*\s*(?:common\s+mistakes?|junior(?:\s+engineer)?(?:\s+(?:approach|answer))?)\s*:?\s*\*\*\s*:?\s*",
    re.IGNORECASE,
)
_SENIOR = re.compile(
    r"^\W*\*\*\s*senior(?:\s+engineer)?(?:\s+(?:approach|answer))?\s*:?\s*\*\*\s*:?\s*",
    re.IGNORECASE,
)
_QUOTE_PREFIX = re.compile(r"^[ \t]{0,3}>[ ]?", re.MULTILINE)
_DETAILS_OPEN = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
_SUMMARY_CLOSE = re.compile(r"</summary\s*>", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_SLUG = re.compile(r"[^a-z0-9]+")
_PART_HEADING = re.compile(
    r"^\W*(?:the\s+)?(?:scenario|challenge|task|quick[\s-]*check)\W*$", re.IGNORECASE
)
_ATTR_LINE = re.compile(r"^[ \t]+([A-Za-z_][\w-]*)=[{\"']", re.MULTILINE)
_ORPHAN_END = re.compile(r"^[ \t]*/>[ \t]*\Z", re.MULTILINE)
_OPENER = re.compile(r"^[ \t]*<[A-Za-z]", re.MULTILINE)
_HIDDEN = re.compile(
    r"<(script|style|svg|iframe|object|embed|math|template|noscript|textarea|select)\b.*?"
    r"(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]*>")
_EMPHASIS = re.compile(r"[*_`~]")
_CODE_END = re.compile(r"[{}();,>\[\]`]\s*$")


@dataclass
class Extracted:
    """What extraction found, before it is frozen into a Guide."""

    title: str = ""
    questions: list[Question] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    contrasts: list[Contrast] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes (``"GitHub Actions"`` -> ``"github-actions"``)."""
    return _SLUG.sub("-", text.lower()).strip("-") or "guide"


def heading_level(block: Block) -> int:
    """2 for ``##`` and so on."""
    return int(block.token.tag[1:]) if block.token.tag[1:].isdigit() else 0


def flatten(blocks: list[Block]) -> Iterator[Block]:
    """Blocks in order, with unknown MDX wrappers replaced by their children."""
    for block in blocks:
        tag = block.tag
        if (
            block.type == "mdx_wrapper"
            and tag is not None
            and tag.name not in KNOWN_COMPONENTS
            and not is_runner(block)
        ):
            yield from flatten(block.children)
        else:
            yield block


@dataclass
class _Callout:
    answer: Answer
    loc: SourceLoc
    section: Question | None


class Extractor:
    """Walks one guide's blocks and collects its card models and problems."""

    def __init__(self, path: str, source: Source) -> None:
        self.path = path
        self.src = source
        self.out = Extracted()
        self.heading = ""
        self.section: SectionReader | None = None
        self.mistake: _Callout | None = None
        self.languages = LanguageCounter()
        self.contexts: dict[int, str] = {}
        """Nearest heading of each contrast, by ``id()`` (contrasts are frozen)."""

    # --- helpers ---------------------------------------------------------------------------------

    def loc(self, line0: int, col: int = 1) -> SourceLoc:
        """Location of 0-based ``line0``."""
        return SourceLoc(self.path, line0 + 1, col)

    def warning(self, loc: SourceLoc, message: str) -> None:
        self.out.diagnostics.append(Diagnostic.warning(loc, message))

    def cap(self, text: str, loc: SourceLoc) -> str:
        """``text``, shortened with a warning when it is too long for a card."""
        if len(text) <= MAX_TEXT:
            return text
        cut = text.rfind("\n", 0, MAX_TEXT)
        cut = cut if cut > MAX_TEXT // 2 else MAX_TEXT
        self.warning(loc, f"card text of {len(text):,} characters shortened to {cut:,}")
        return text[:cut].rstrip() + "\n\n… (shortened)"

    @property
    def question(self) -> Question | None:
        return self.section.question if self.section else None

    def _contrast(self, contrast: Contrast) -> None:
        self.out.contrasts.append(contrast)
        self.contexts[id(contrast)] = self.heading

    # --- the walk --------------------------------------------------------------------------------

    def run(self, tree: list[Block]) -> Extracted:
        """Extract every card from ``tree`` (the guide's top-level blocks)."""
        for block in _all_blocks(tree):
            if block.type in ("mdx_wrapper", "mdx_component") and block.tag is not None:
                self._clip_tags(block)
            elif block.type == "mdx_error":
                self._mdx_error(block)
            elif block.type == "nesting_error":
                self.warning(
                    self.loc(block.line),
                    f"quotes or lists nested too deeply; lines {block.line + 1} to {block.end} "
                    "skipped",
                )
        items = self._drop_orphans(list(flatten(tree)))
        for block in _all_blocks(tree):
            if block.type == "fence":
                self.languages.add(block.token.info, None)
        i, after_rule = 0, False
        while i < len(items):
            block = items[i]
            if block.type == "heading":
                i = self._heading(items, i, after_rule)
            else:
                self._block(block)
                i += 1
            after_rule = block.type == "hr"
        self._end_section()
        self._flush_mistake()
        self._check_duplicate_quizzes()
        self._name_contrast_parts()
        self._infer_languages()
        self._tell_rows_apart()
        self._cap_texts()
        return self.out

    def _name_contrast_parts(self) -> None:
        """Give each of several contrasts in one question a part name, so their fronts differ."""
        groups: dict[Question | None, list[int]] = {}
        for n, contrast in enumerate(self.out.contrasts):
            groups.setdefault(contrast.section, []).append(n)
        for section, members in groups.items():
            if len(members) < 2 and section is not None:
                continue
            names = [self._part_name(self.out.contrasts[n], section) for n in members]
            counts = Counter(names)
            for k, (n, name) in enumerate(zip(members, names, strict=True)):
                if not name or counts[name] > 1:
                    place = f"part {k + 1} of {len(members)}"
                    name = f"{name} ({place})" if name else place
                self.out.contrasts[n] = replace(self.out.contrasts[n], part=name)

    def _part_name(self, contrast: Contrast, section: Question | None) -> str:
        heading = self.contexts.get(id(contrast), "").strip()
        if section is not None and (
            _QUESTION.match(heading) or _PART_HEADING.match(heading) or heading == section.title
        ):
            return ""
        return heading

    def _infer_languages(self) -> None:
        """Code a component gave without a language gets the one its surroundings use."""
        for n, contrast in enumerate(self.out.contrasts):
            sides = []
            for side in (contrast.mistake, contrast.senior):
                if side.code and not side.language:
                    side = replace(side, language=self.languages.infer(side.code, contrast.section))
                sides.append(side)
            if sides != [contrast.mistake, contrast.senior]:
                self.out.contrasts[n] = replace(contrast, mistake=sides[0], senior=sides[1])

    def _tell_rows_apart(self) -> None:
        """Rows of one table that share their first cell would make cards with one front:
        show a column that tells them apart, else number them."""
        groups: dict[tuple[int, str], list[int]] = {}
        for n, fact in enumerate(self.out.facts):
            groups.setdefault((id(fact.table), _shown_words(fact.cells[0])), []).append(n)
        for members in groups.values():
            if len(members) < 2:
                continue
            rows = [self.out.facts[n] for n in members]
            width = len(rows[0].headers)
            given = next(
                (
                    c
                    for c in range(1, width - 1)
                    if all(r.cells[c].strip() for r in rows)
                    and len({_shown_words(r.cells[c]) for r in rows}) == len(rows)
                ),
                0,
            )
            for n, fact in zip(members, rows, strict=True):
                self.out.facts[n] = replace(fact, given=given, numbered=not given)

    def _drop_orphans(self, items: list[Block]) -> list[Block]:
        """Leave out what remains of a component whose opening ``<Name`` line is missing.

        Such text (attribute lines such as ``rightAnswer={`...`}`` ending in ``/>``, often
        after stray code) would otherwise land on a card as prose. It is reported instead.
        """
        kept: list[Block] = []
        for block in items:
            if block.type not in ("paragraph", "html_block", "code_block"):
                kept.append(block)
                continue
            text = self.src.lines(block.line, block.end)
            first = _ATTR_LINE.search(text)
            if not (first and _ORPHAN_END.search(text)) or _OPENER.search(text, 0, first.start()):
                kept.append(block)
                continue
            attrs = _ATTR_LINE.findall(text)
            start = block.line
            while kept and _codelike(kept[-1], self.src):
                popped = kept.pop()
                start = popped.line
                attrs[:0] = _ATTR_LINE.findall(self.src.lines(popped.line, popped.end))
            names = ", ".join(dict.fromkeys(attrs))
            self.warning(
                self.loc(start),
                f"component attributes ({names}) end in '/>' at line {block.end} but the "
                f"component's opening '<Name' line is missing; lines {start + 1} to "
                f"{block.end} skipped",
            )
        return kept

    def _cap_texts(self) -> None:
        out = self.out
        out.quizzes = [
            replace(
                q,
                prompt=self.cap(q.prompt, q.loc),
                explanation=self.cap(q.explanation, q.loc),
                options=tuple(self.cap(o, q.loc) for o in q.options),
            )
            for q in out.quizzes
        ]
        out.contrasts = [
            replace(
                c,
                mistake=self._cap_answer(c.mistake, c.loc),
                senior=self._cap_answer(c.senior, c.loc),
                explanation=self.cap(c.explanation, c.loc),
            )
            for c in out.contrasts
        ]
        out.scenarios = [
            replace(s, scenario=self.cap(s.scenario, s.loc), challenge=self.cap(s.challenge, s.loc))
            for s in out.scenarios
        ]

    def _cap_answer(self, answer: Answer, loc: SourceLoc) -> Answer:
        return replace(answer, text=self.cap(answer.text, loc), code=self.cap(answer.code, loc))

    def _clip_tags(self, block: Block) -> None:
        meta = block.token.meta
        body = meta.get("body")
        tag = block.tag
        if tag is None or not body:
            return
        start_line, _ = self.src.position(tag.end)
        if body[0] == start_line - 1:
            self.src.clip(body[0], lo=tag.end)
        last = body[1] - 1
        close_line = block.end - 1
        if last == close_line:
            # the closer shares a line with the children: cut it off
            text = self.src.text
            close_at = text.rfind("</" + tag.name, self.src.starts[last], self.src.line_end(last))
            if close_at >= 0:
                self.src.clip(last, hi=close_at)

    def _mdx_error(self, block: Block) -> None:
        meta = block.token.meta
        line, col = self.src.position(int(meta["pos"]))
        loc = SourceLoc(self.path, line, col)
        self.warning(loc, str(meta["message"]))

    def _block(self, block: Block) -> None:
        kind = block.type
        section = self.section
        if section is not None:
            for inner in block.walk():
                if inner.type == "fence":
                    self.languages.add(inner.token.info, section.question)
        if kind == "front_matter":
            self._front_matter(block)
            return
        if kind == "table":
            self._table(block)
        elif kind == "blockquote":
            if self._blockquote(block):
                return
        elif is_runner(block):
            for inner in block.walk():
                if inner.type == "table":
                    self._table(inner)
            if section is not None:
                section.runner(block)
            return
        elif kind in ("mdx_component", "mdx_wrapper"):
            self._component(block)
            return
        elif kind in ("bullet_list", "ordered_list"):
            for inner in block.walk():
                if inner.type == "table":
                    self._table(inner)
        if section is not None and _is_prose(block):
            section.block(block)

    def _heading(self, items: list[Block], i: int, after_rule: bool) -> int:
        block = items[i]
        text = block.text.strip()
        level = heading_level(block)
        if level == 1 and not self.out.title:
            self.out.title = text
        match = _QUESTION.match(text)
        if match:
            self._end_section()
            self._start_section(items, i, int(match.group(1)), match.group(2).strip())
            self.heading = text
            return i + 1
        if level == 1 or (level == 2 and after_rule):
            self._end_section()
        self.heading = text
        if _QUICK_CHECK.match(text):
            return self._quick_check(items, i)
        if self.section is not None:
            self.section.heading(block, level)
        return i + 1

    # --- question sections and scenarios ---------------------------------------------------------

    def _start_section(self, items: list[Block], i: int, number: int, title: str) -> None:
        self._flush_mistake()
        qtype = category = ""
        for block in items[i + 1 :]:
            if block.type in ("heading", "hr"):
                break
            if block.type == "paragraph":
                m_type, m_cat = _TYPE.search(block.text), _CATEGORY.search(block.text)
                if m_type or m_cat:
                    qtype = m_type.group(1).strip() if m_type else ""
                    category = m_cat.group(1).strip() if m_cat else ""
                    break
        question = Question(self.loc(items[i].line), number, title, qtype, category)
        self.out.questions.append(question)
        self.section = SectionReader(question, self.src, self.path, self.warning)

    def _end_section(self) -> None:
        section, self.section = self.section, None
        if section is None:
            return
        self._flush_mistake()
        self.out.scenarios.append(section.finish())

    # --- quick checks ----------------------------------------------------------------------------

    def _quick_check(self, items: list[Block], i: int) -> int:
        """Read the Quick Check opened by heading ``items[i]``; return the index after it.

        The block is: question blocks, option lines, then ``<details>``; it ends at ``---``, a
        heading, a component, text after the options, or the end of ``</details>``. Whatever
        follows goes back to the main walk.
        """
        loc = self.loc(items[i].line)
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
                if _DETAILS_CLOSE.search(self.src.lines(block.line, block.end)):
                    break
                continue
            found = list(self._options_in(block))
            if found:
                options.extend(found)
            elif options:
                break
            else:
                prompt.append(block)
            j += 1
        for block in items[i + 1 : j]:
            if block.type == "table":
                self._table(block)
        quiz = self._parse_quick_check(loc, prompt, options, details)
        if quiz is not None:
            self.out.quizzes.append(quiz)
        return j

    def _parse_quick_check(
        self,
        loc: SourceLoc,
        prompt_blocks: list[Block],
        options: list[_Option],
        details: list[Block],
    ) -> Quiz | None:
        explanation = self._details(details) if details else None
        if not prompt_blocks:
            self.warning(
                loc,
                "Quick Check has no question (expected a bold line before the options); skipped",
            )
            return None
        if len(options) < 2:
            self.warning(
                loc, "Quick Check needs at least two options written 'A. ...', 'B. ...'; skipped"
            )
            return None
        marked = [o for o in options if o.correct]
        if len(marked) != 1:
            if marked:
                letters = ", ".join(o.letter for o in marked)
                self.warning(
                    marked[1].loc,
                    f"Quick Check marks {len(marked)} options as correct ({letters}); "
                    "exactly one may start with '->'; skipped",
                )
            else:
                bold = [o.letter for o in options if _WHOLLY_BOLD.match(o.text)]
                hint = f" (option {bold[0]} is bold: did you mean '-> {bold[0]}.'?)" if bold else ""
                self.warning(
                    loc, f"Quick Check marks no option as correct with '->'{hint}; skipped"
                )
            return None
        expected = [chr(ord("A") + k) for k in range(len(options))]
        if [o.letter for o in options] != expected:
            got = ", ".join(o.letter for o in options)
            self.warning(
                options[0].loc, f"options are lettered {got}; expected {', '.join(expected)}"
            )
        if explanation is None:
            self.warning(loc, "Quick Check has no <details> explanation")
        first = prompt_blocks[0]
        parts = [
            _unbold(first.text.strip())
            if first.type == "paragraph"
            else self.src.lines(first.line, first.end)
        ]
        parts.extend(self.src.lines(b.line, b.end) for b in prompt_blocks[1:])
        correct = next(k for k, o in enumerate(options) if o.correct)
        texts = [_unbold(o.text) if o.correct else o.text for o in options]
        return Quiz(
            loc,
            "\n\n".join(p for p in parts if p.strip()),
            tuple(texts),
            correct,
            explanation or "",
            self.question,
            "quick-check",
        )

    def _options_in(self, block: Block) -> Iterator[_Option]:
        """Option lines of a paragraph, of list items, or of an indented code block."""
        if block.type == "paragraph":
            yield from _option_lines(self, block.line, block.text.split("\n"))
        elif block.type == "code_block":
            lines = block.token.content.rstrip("\n").split("\n")
            if all(_OPTION.match(ln.strip()) for ln in lines if ln.strip()):
                yield from _option_lines(self, block.line, lines)
        elif block.type in ("bullet_list", "ordered_list"):
            found: list[_Option] = []
            for item in block.children:
                paragraphs = [c for c in item.children if c.type == "paragraph"]
                if not paragraphs:
                    return
                got = list(_option_lines(self, paragraphs[0].line, paragraphs[0].text.split("\n")))
                if not got:
                    return
                found.extend(got)
            yield from found

    def _details(self, blocks: list[Block]) -> str | None:
        """The explanation inside ``<details><summary>..</summary> ... </details>``."""
        if not blocks:
            return None
        start = blocks[0].line
        end = blocks[-1].end
        for block in blocks:
            if _DETAILS_CLOSE.search(self.src.lines(block.line, block.end)):
                end = block.end
                break
        text = self.src.lines(start, end)
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

    # --- InterviewQuiz and JuniorVsSenior ---------------------------------------------------------

    def _component(self, block: Block) -> None:
        tag = block.tag
        if tag is None:
            return
        if tag.name == QUIZ_COMPONENT:
            quiz = self._interview_quiz(block)
            if quiz is not None:
                self.out.quizzes.append(quiz)
        elif tag.name == CONTRAST_COMPONENT:
            self._junior_vs_senior(block)

    def _attr_loc(self, attr: Attr) -> SourceLoc:
        line, col = self.src.position(attr.pos)
        return SourceLoc(self.path, line, col)

    def _interview_quiz(self, block: Block) -> Quiz | None:
        tag = block.tag
        assert tag is not None
        loc = self.loc(block.line, self.src.position(tag.start)[1])
        attrs = tag.attrs
        missing = [a for a in ("question", "options", "correctAnswer") if a not in attrs]
        if missing:
            self.warning(loc, f"<{tag.name}> lacks {', '.join(missing)}; quiz skipped")
            return None
        question = attrs["question"].value
        if not isinstance(question, str) or not question.strip():
            self.warning(
                self._attr_loc(attrs["question"]),
                "question must be a non-empty string; quiz skipped",
            )
            return None
        options = attrs["options"].value
        if not (isinstance(options, list) and all(isinstance(o, str) for o in options)):
            self.warning(
                self._attr_loc(attrs["options"]),
                'options must be an array of strings: {["..."]}; quiz skipped',
            )
            return None
        if len(options) < 2:
            self.warning(
                self._attr_loc(attrs["options"]), "a quiz needs at least two options; skipped"
            )
            return None
        answer = attrs["correctAnswer"]
        index = _as_index(answer.value)
        if index is None or not 0 <= index < len(options):
            shown = answer.value.text if isinstance(answer.value, JsRaw) else answer.value
            self.warning(
                self._attr_loc(answer),
                f"correctAnswer={shown!r} is not an index of the {len(options)} options "
                f"(0 to {len(options) - 1}); quiz skipped",
            )
            return None
        explanation = attrs["explanation"].value if "explanation" in attrs else ""
        if not isinstance(explanation, str):
            self.warning(self._attr_loc(attrs["explanation"]), "explanation is not a string")
            explanation = ""
        if not explanation:
            self.warning(loc, f"<{tag.name}> has no explanation")
        texts = tuple(str(o) for o in options)
        return Quiz(
            loc, question.strip(), texts, index, explanation.strip(), self.question, tag.name
        )

    def _junior_vs_senior(self, block: Block) -> None:
        tag = block.tag
        assert tag is not None
        loc = self.loc(block.line, self.src.position(tag.start)[1])
        attrs = tag.attrs
        language = _string_attr(attrs, "language") or _string_attr(attrs, "lang")
        sides: list[Answer] = []
        for names in (_MISTAKE_SIDES, _SENIOR_SIDES):
            attr = next((attrs[n] for n in names if n in attrs), None)
            if attr is None:
                self.warning(loc, f"<{tag.name}> lacks {names[0]}; contrast skipped")
                return
            side = _answer(attr.value, language)
            if side is None:
                self.warning(
                    self._attr_loc(attr),
                    f"{attr.name} must be a string or an object "
                    'like {{ title: "...", code: `...` }}; contrast skipped',
                )
                return
            sides.append(_explained(side, attr.name, attrs))
        body = block.children if block.type == "mdx_wrapper" else []
        parts = [_string_attr(attrs, "explanation").strip()]
        parts.extend(self.src.lines(b.line, b.end) for b in body if _is_prose(b))
        explanation = excerpt_of([p for p in parts if p.strip()], EXPLANATION_BUDGET)
        if self.section is not None:
            self.section.comparison(body)
        self._contrast(Contrast(loc, sides[0], sides[1], explanation, self.question, tag.name))

    # --- call-outs -------------------------------------------------------------------------------

    def _blockquote(self, block: Block) -> bool:
        """Pair call-outs; True when ``block`` is one (it is then no part of a scenario's text)."""
        for inner in block.walk():
            if inner.type == "table":
                self._table(inner)
        if not block.children:
            return False
        senior_at = next((k for k, p in enumerate(block.children) if _SENIOR.match(p.text)), None)
        first = block.children[0]
        is_mistake = bool(_MISTAKE.match(first.text))
        if not is_mistake and senior_at is None:
            return False
        if is_mistake:
            end = senior_at if senior_at is not None else len(block.children)
            self._flush_mistake()
            self.mistake = _Callout(
                Answer(text=self._quote_text(block.children[:end], _MISTAKE)),
                self.loc(block.line),
                self.question,
            )
        if senior_at is not None:
            senior = Answer(text=self._quote_text(block.children[senior_at:], _SENIOR))
            senior_loc = self.loc(block.children[senior_at].line)
            if self.mistake is None:
                self.warning(
                    senior_loc,
                    "Senior Engineer Approach call-out without a Common Mistake before it; skipped",
                )
                return True
            mistake, self.mistake = self.mistake, None
            self._contrast(
                Contrast(mistake.loc, mistake.answer, senior, "", mistake.section, "callout")
            )
        if self.section is not None:
            self.section.comparison()
        return True

    def _quote_text(self, blocks: list[Block], label: re.Pattern[str]) -> str:
        text = _QUOTE_PREFIX.sub("", self.src.lines(blocks[0].line, blocks[-1].end))
        return label.sub("", text, count=1).strip()

    def _flush_mistake(self) -> None:
        if self.mistake is not None:
            self.warning(
                self.mistake.loc,
                "Common Mistake call-out has no Senior Engineer Approach after it; skipped",
            )
            self.mistake = None

    # --- tables ----------------------------------------------------------------------------------

    def _table(self, block: Block) -> None:
        if self.heading.strip().lower() == OVERVIEW_HEADING:
            return
        meta = block.token.meta
        if _is_index(meta["rows"]):
            return  # a table of contents: links to anchors or files, nothing to learn
        loc = self.loc(block.line)
        headers = tuple(self.cap(h, loc) for h in meta["headers"])
        lines = [line for line, _ in meta["rows"]]
        body = [tuple(self.cap(c, loc) for c in cells) for _, cells in meta["rows"]]
        table = Table(loc, headers, tuple(body))
        for n, (line, width) in enumerate(zip(lines, meta["widths"], strict=True)):
            if width != len(headers):
                self.warning(
                    self.loc(line),
                    f"table row has {width} cells but its header has {len(headers)}; row skipped",
                )
                continue
            if sum(1 for c in body[n] if c) < 2:
                if any(body[n]):
                    self.warning(
                        self.loc(line),
                        "table row has only one filled cell: nothing to ask; row skipped",
                    )
                continue
            self.out.facts.append(Fact(self.loc(line), table, n, self.heading, self.question))

    def _front_matter(self, block: Block) -> None:
        try:
            data = yaml.safe_load(block.token.content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = block.line + 1 + (mark.line if mark else 0)
            self.warning(self.loc(line), f"front matter is not valid YAML: {exc}")
            return
        if isinstance(data, dict) and isinstance(data.get("title"), str) and not self.out.title:
            self.out.title = data["title"].strip()

    def _check_duplicate_quizzes(self) -> None:
        seen: dict[str, Quiz] = {}
        for quiz in self.out.quizzes:
            key = " ".join(quiz.prompt.lower().split())
            if key in seen:
                self.warning(
                    quiz.loc,
                    f"quiz repeats the question at line {seen[key].loc.line}; both are kept",
                )
            else:
                seen[key] = quiz


@dataclass(frozen=True, slots=True)
class _Option:
    letter: str
    text: str
    correct: bool
    loc: SourceLoc


def _option_lines(ex: Extractor, line0: int, lines: list[str]) -> Iterator[_Option]:
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
        meta = (m.group("letter"), bool(m.group("mark")), ex.loc(line0 + n, col))
        current = [m.group("text") or ""]
    if current is not None and meta is not None:
        yield _Option(meta[0], "\n".join(current).strip(), meta[1], meta[2])


_LOCAL_LINK = re.compile(
    r"\]\((?![a-z][a-z0-9+.-]*:)[^)]*\)|href=[\"'](?![a-z][a-z0-9+.-]*:)", re.I
)


def _is_index(rows: list[tuple[int, tuple[str, ...]]]) -> bool:
    """Whether most rows of a table link to a place in the guide or to another file: a table of
    contents or an index, which makes no cards."""
    linking = sum(1 for _line, cells in rows if any(_LOCAL_LINK.search(c) for c in cells))
    return bool(rows) and linking * 2 > len(rows)


def _shown_words(cell: str) -> str:
    """The words a reader will see of a cell: markup, and what the sanitizer drops whole
    (scripts, styles, SVG), left out; so two cells that look alike on a card count as alike."""
    text = _TAG.sub(" ", _HIDDEN.sub(" ", cell))
    return " ".join(_EMPHASIS.sub("", text).lower().split())


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


def _is_prose(block: Block) -> bool:
    return block.type not in (
        "mdx_component",
        "mdx_wrapper",
        "mdx_error",
        "nesting_error",
        "mdx_esm",
        "mdx_expression",
        "front_matter",
    )


def _unbold(text: str) -> str:
    m = _WHOLLY_BOLD.match(text.strip())
    return m.group("inner").strip() if m else text


def _as_index(value: JsValue) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _string_attr(attrs: dict[str, Attr], name: str) -> str:
    value = attrs[name].value if name in attrs else ""
    return value if isinstance(value, str) else ""


_MISTAKE_SIDES = ("juniorAnswer", "junior", "mistake", "wrongAnswer", "wrong", "badAnswer")
_SENIOR_SIDES = ("seniorAnswer", "senior", "rightAnswer", "right", "goodAnswer")
_SIDE_WORD = re.compile(r"(?:Answer|Code|Approach)$")


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
        return Answer(text=value.strip()) if value.strip() else None
    if isinstance(value, dict):

        def get(*keys: str) -> str:
            for key in keys:
                item = value.get(key)
                if isinstance(item, str):
                    return item
            return ""

        answer = Answer(
            text=get("text", "description", "explanation", "answer").strip(),
            code=_dedent_code(get("code")),
            language=get("language", "lang") or language,
            title=get("title", "label").strip(),
        )
        return answer if answer.text or answer.code or answer.title else None
    return None


def _dedent_code(code: str) -> str:
    return textwrap.dedent(code.strip("\n")).rstrip()


__all__ = ["Extracted", "Extractor", "flatten", "slugify"]
