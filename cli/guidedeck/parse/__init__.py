"""Read a guide: markdown-it tokens (with the MDX plugin) -> block tree -> card models."""

from __future__ import annotations

import dataclasses
import os
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.models import Fact, Guide
from guidedeck.parse.blocks import Block, Source, build_tree
from guidedeck.parse.dialects import DIALECTS, Context, by_name
from guidedeck.parse.extract import Extracted, finish, slugify, walk
from guidedeck.parse.mdx import mdx_plugin
from guidedeck.parse.nesting import nesting_guard_plugin
from guidedeck.parse.table import lean_table_plugin


@dataclass(frozen=True, slots=True)
class ParseResult:
    """A parsed guide and the problems found in it."""

    guide: Guide
    diagnostics: tuple[Diagnostic, ...]
    headings: tuple[tuple[int, str], ...] = ()
    """Every Markdown heading: its line and the text it shows (where links to sections go)."""


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    """The one Markdown parser: CommonMark, GFM tables, and the MDX plugin.

    Extraction reads the raw Markdown of paragraphs, headings and cells (``inline.content``), so
    block parsing is all it needs. Skipping the inline pass keeps parsing linear in the input:
    markdown-it's emphasis and link rules are costly on hostile text, and rendering runs them
    later on card text only.
    """
    md = MarkdownIt("commonmark").enable("table").use(mdx_plugin).use(lean_table_plugin)
    md.use(nesting_guard_plugin)
    md.core.ruler.disable(["inline", "text_join"])
    return md


def _add_dialect(
    extracted: Extracted, path: str, source: Source, tree: list[Block], name: str
) -> None:
    """Cards of the other conventions the guide is written in (if any), beside the family's.

    A file may mix conventions (a numbered list of questions, then a section of output
    quizzes): every plugin that recognises questions reads, the one that recognises most
    first, and an item's lines are read by one plugin only (nothing is carded twice)."""
    if name == "family":
        return
    ctx = Context(path, source, tree, extracted.title, _front_matter(tree))
    chosen = by_name(name)
    if chosen is not None:
        ranked = [chosen]
    else:
        scored = sorted(((d.detect(ctx), -n, d) for n, d in enumerate(DIALECTS)),
                        key=lambda s: (s[0], s[1]), reverse=True)  # fmt: skip
        ranked = [d for score, _n, d in scored if score > 0]
        if not ranked:
            _listed_questions(extracted, tree, path)
            return
    claimed: list[tuple[int, int]] = []
    for n, dialect in enumerate(ranked):
        read = Context(path, source, tree, extracted.title, ctx.front_matter)
        dialect.extract(read)
        _take(extracted, read, claimed, primary=n == 0, name=dialect.name)


def _take(
    extracted: Extracted, read: Context, claimed: list[tuple[int, int]], *, primary: bool,
    name: str,
) -> None:  # fmt: skip
    """A plugin's items whose lines no plugin before it read; the facts the family made of a
    table in a question's own text (it is part of the question) are dropped."""
    mine = [(s, e) for s, e in read.spans.items() if not _overlaps((s, e), claimed)]
    if not primary and not mine:
        return
    ok = {s for s, _e in mine}

    def kept(line: int) -> bool:
        return line - 1 in ok or (primary and line - 1 not in read.spans)

    extracted.questions.extend(q for q in read.questions if kept(q.loc.line))
    extracted.quizzes.extend(q for q in read.quizzes if kept(q.loc.line))
    extracted.scenarios.extend(s for s in read.scenarios if kept(s.question.loc.line))
    spans = dict(mine)
    extracted.diagnostics.extend(
        d for d in read.diagnostics
        if primary or any(s <= d.loc.line - 1 < spans[s] for s in spans)
    )  # fmt: skip
    _claim(claimed, mine)
    prompts = [(s, e) for s, e in read.prompts if s in ok]
    if prompts:
        extracted.facts[:] = [f for f in extracted.facts
                              if not any(s <= f.loc.line - 1 < e for s, e in prompts)]  # fmt: skip
    extracted.diagnostics.extend(
        Diagnostic.warning(SourceLoc(read.path, line + 1),
                           f"a question without an answer ({name} convention): no card")
        for line in (read.unanswered if primary else [])  # another plugin's guesses are no items
    )  # fmt: skip


def _overlaps(span: tuple[int, int], claimed: list[tuple[int, int]]) -> bool:
    """Whether ``span`` shares a line with one of ``claimed`` (kept sorted and merged, so the
    test is a bisection: a file of many items stays linear)."""
    at = bisect_left(claimed, (span[1], -1)) - 1
    return at >= 0 and claimed[at][1] > span[0]


def _claim(claimed: list[tuple[int, int]], spans: list[tuple[int, int]]) -> None:
    """Add ``spans`` to ``claimed``, sorted, overlapping ones merged."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted([*claimed, *spans]):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    claimed[:] = merged


def _listed_questions(extracted: Extracted, tree: list[Block], path: str) -> None:
    """A file that only lists questions (no answers) makes no card, and says so once."""
    if extracted.quizzes or extracted.scenarios or extracted.contrasts:
        return
    asked = [
        item
        for block in tree
        if block.type in ("bullet_list", "ordered_list")
        for item in block.walk()
        if item.type == "paragraph" and item.text.rstrip().endswith("?")
    ]
    if len(asked) >= 3:
        extracted.diagnostics.append(
            Diagnostic.warning(
                SourceLoc(path, asked[0].line + 1),
                f"{len(asked)} question(s) listed without an answer: no card made for them",
            )
        )


def _front_matter(tree: list[Block]) -> dict[str, object]:
    block = next((b for b in tree if b.type == "front_matter"), None)
    if block is None:
        return {}
    try:
        data = yaml.safe_load(block.token.content)
    except yaml.YAMLError:
        return {}  # reported by the family's reader
    return data if isinstance(data, dict) else {}


_SURROGATE = re.compile("[\ud800-\udfff]")
_HALF = (
    "holds half of a character (a lone surrogate such as \\uDFFF from an escape in a string) "
    "that no file can store"
)


def _unencodable(value: object) -> bool:
    """Whether a model holds text that cannot be written as UTF-8 (a lone surrogate)."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, (tuple, list)):
        return any(_unencodable(v) for v in value)
    if isinstance(value, Fact):  # its own row only: a table is shared by thousands of rows
        return _unencodable((value.context, value.headers, value.cells))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(
            _unencodable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in ("loc", "section", "question", "table")
        )
    return False


def normalize(text: str) -> str:
    """Drop a UTF-8 BOM and turn CRLF/CR line endings into LF, so every file parses alike."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(text: str, path: str, dialect: str = "auto") -> ParseResult:
    """Parse guide ``text`` read from ``path`` into card models and diagnostics.

    The family's syntaxes are always read; ``dialect`` adds one other convention's plugin
    (``auto``: the one that recognises most questions; ``family``: none).
    """
    text = normalize(text)
    tokens = markdown().parse(text, {})
    # markdown-it turns NUL into U+FFFD; slicing must see the same text its maps refer to
    source = Source(text.replace("\0", "\ufffd"))
    tree = build_tree(tokens)
    state = walk(path, source, tree)
    _add_dialect(state.out, path, source, tree, dialect)
    extracted = finish(state)  # every plugin's cards, the dialect's too
    stem = PurePath(path).stem
    title = extracted.title
    diagnostics = list(extracted.diagnostics)
    if not title:
        # a collection's README.md is named by its folder
        # by the folder it really is in, however the path was given (README.md, ./README.md)
        folder = PurePath(os.path.abspath(path)).parent.name  # noqa: PTH100 (a str path)
        name = folder if stem.lower() == "readme" else stem
        title = name.replace("-", " ").replace("_", " ").strip() or stem or "Untitled guide"
        diagnostics.append(
            Diagnostic.warning(
                SourceLoc(path, 1), f"guide has no '# Title' heading; using {title!r}"
            )
        )
    if _unencodable(title):
        diagnostics.append(
            Diagnostic.warning(SourceLoc(path, 1), f"the title {_HALF}; using the file name")
        )
        title = stem.replace("-", " ").replace("_", " ").strip() or "Untitled guide"
    kept: dict[str, list[Any]] = {}
    for name in ("quizzes", "facts", "contrasts", "scenarios", "others"):
        kept[name] = []
        for card in getattr(extracted, name):
            if _unencodable(card):
                diagnostics.append(Diagnostic.warning(card.loc, f"this card {_HALF}; skipped"))
            else:
                kept[name].append(card)
    guide = Guide(
        path=path,
        title=title,
        slug=slugify(stem),
        questions=tuple(q for q in extracted.questions if not _unencodable(q)),
        quizzes=tuple(kept["quizzes"]),
        facts=tuple(kept["facts"]),
        contrasts=tuple(kept["contrasts"]),
        scenarios=tuple(kept["scenarios"]),
        others=tuple(kept["others"]),
    )
    diagnostics.sort(key=lambda d: (d.loc.line, d.loc.col))
    return ParseResult(guide, tuple(diagnostics), _headings(tokens))


def _headings(tokens: Sequence[Token]) -> tuple[tuple[int, str], ...]:
    from guidedeck.slugs import heading_text

    return tuple(
        (token.map[0] + 1, heading_text(tokens[n + 1].content))
        for n, token in enumerate(tokens[:-1])
        if token.type == "heading_open" and token.map is not None
    )
