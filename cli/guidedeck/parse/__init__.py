"""Read a guide: markdown-it tokens (with the MDX plugin) -> block tree -> card models."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

from markdown_it import MarkdownIt

from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.models import Guide
from guidedeck.parse.blocks import Source, build_tree
from guidedeck.parse.extract import Extractor, slugify
from guidedeck.parse.mdx import mdx_plugin
from guidedeck.parse.nesting import nesting_guard_plugin
from guidedeck.parse.table import lean_table_plugin


@dataclass(frozen=True, slots=True)
class ParseResult:
    """A parsed guide and the problems found in it."""

    guide: Guide
    diagnostics: tuple[Diagnostic, ...]


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


def normalize(text: str) -> str:
    """Drop a UTF-8 BOM and turn CRLF/CR line endings into LF, so every file parses alike."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(text: str, path: str) -> ParseResult:
    """Parse guide ``text`` read from ``path`` into card models and diagnostics."""
    text = normalize(text)
    tokens = markdown().parse(text, {})
    # markdown-it turns NUL into U+FFFD; slicing must see the same text its maps refer to
    source = Source(text.replace("\0", "\ufffd"))
    extracted = Extractor(path, source).run(build_tree(tokens))
    stem = PurePath(path).stem
    title = extracted.title
    diagnostics = list(extracted.diagnostics)
    if not title:
        title = stem.replace("-", " ").replace("_", " ").strip() or "Untitled guide"
        diagnostics.append(
            Diagnostic.warning(
                SourceLoc(path, 1), f"guide has no '# Title' heading; using {title!r}"
            )
        )
    guide = Guide(
        path=path,
        title=title,
        slug=slugify(stem),
        questions=tuple(extracted.questions),
        quizzes=tuple(extracted.quizzes),
        facts=tuple(extracted.facts),
        contrasts=tuple(extracted.contrasts),
        scenarios=tuple(extracted.scenarios),
    )
    diagnostics.sort(key=lambda d: (d.loc.line, d.loc.col))
    return ParseResult(guide, tuple(diagnostics))
