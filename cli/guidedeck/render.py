"""Card models to note fields: Markdown rendered to HTML, code highlighted, everything sanitized.

Guides are written by many people and tools, so every piece of HTML made from a guide's text
passes an allow-list sanitizer (nh3): no ``<script>``, event handler, ``<iframe>``, SVG, ``style``
attribute or ``javascript:`` URL can reach a card, whatever the guide contains. Fields are then
composed from those sanitized pieces, escaped text and this module's own fixed markup only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from guidedeck.cards import KINDS
from guidedeck.highlight import fence_language, highlight
from guidedeck.media import Media
from guidedeck.models import Card, Guide
from guidedeck.parse.mdx import mdx_plugin
from guidedeck.parse.nesting import nesting_guard_plugin

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
        "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
        "mark", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt"},
    "pre": {"data-lang"},
    "ol": {"start", "type"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


_LOCAL_A = re.compile(
    r"<a\s+href=\"(?![a-z][a-z0-9+.-]*:)[^\"]*\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL
)


def sanitize(fragment: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes; drop scripts and styles whole.

    Links to a place in the guide (``#anchor``) or to another file are dead in Anki: their text
    stays, the link goes.
    """
    return _LOCAL_A.sub(r"\1", _clean(fragment))


def _clean(fragment: str) -> str:
    return _cleaner().clean(fragment)


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    """The sanitizer, made once: ``nh3.clean`` builds one per call from its arguments, which
    cost more than cleaning a short field."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags={
            "script",
            "style",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
            "template",
            "noscript",
            "textarea",
            "select",
        },
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _fence(code: str, lang: str, _attrs: Any) -> str:
    return highlight(code, fence_language(lang))


def _nothing(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return ""


def _code_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return highlight(tokens[idx].content, "")


def _table_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return '<div class="gd-table-wrap"><table>\n'


def _table_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "</table></div>\n"


@lru_cache(maxsize=1)
def markdown_renderer() -> MarkdownIt:
    """The parser used for rendering: the guide parser's syntax, with Pygments for fences."""
    md = MarkdownIt("commonmark", {"highlight": _fence}).enable("table").use(mdx_plugin)
    md.use(nesting_guard_plugin)
    for rule in (
        "mdx_component",
        "mdx_wrapper_open",
        "mdx_wrapper_close",
        "mdx_error",
        "nesting_error",
        "mdx_esm",
        "mdx_expression",
        "front_matter",
    ):
        md.add_render_rule(rule, _nothing)
    md.add_render_rule("code_block", _code_block)
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    return md


def markdown_html(text: str) -> str:
    """Block Markdown to sanitized HTML."""
    return sanitize(markdown_renderer().render(text)).strip() if text.strip() else ""


_PLAIN = re.compile(r"(?:[^\W_]|[ .,;:?'\"()/+=%#@-])*")
"""Text no inline rule acts on and the sanitizer keeps as it is: letters, digits, spaces and
punctuation that is neither Markdown nor HTML (most table cells: a name, a number, a phrase)."""


@lru_cache(maxsize=1 << 16)
def inline_html(text: str) -> str:
    """Inline Markdown (a title, a table cell, an option) to sanitized HTML.

    Cached: every fact of a table shows the table's rows around it, so each cell would otherwise
    be rendered once per nearby row. Plain text is itself (a table of 20,000 rows holds 60,000
    cells, and rendering each through the parser and the sanitizer took most of its build).
    """
    if _PLAIN.fullmatch(text):
        return text.strip()
    return sanitize(markdown_renderer().renderInline(text)).strip() if text.strip() else ""


_ANKI_MARKUP = re.compile(r"\[(?=/?(?:sound:|anki:|latex\]|\$\$?\]))", re.IGNORECASE)
"""The opening bracket of Anki's own field markup: ``[sound:x.mp3]``, ``[anki:tts]``,
``[latex]``, ``[$]`` and ``[$$]`` (and their closers). Anki acts on them in a field's raw text,
before any HTML is read, so a guide's ``[sound:x.mp3]`` would become a play button."""


def inert(fragment: str) -> str:
    """``fragment`` with Anki's markup made plain text (``[`` written as ``&#91;``)."""
    return _ANKI_MARKUP.sub("&#91;", fragment)


def render(
    card: Card,
    guide: Guide,
    *,
    shuffle: bool = False,
    media: Media | None = None,
    link: str | None = None,
) -> dict[str, str]:
    """The note fields of ``card`` except ``ID`` (an identity, given by the lock), all HTML.

    Nothing here depends on where the card stands in the file, so an edit elsewhere in the guide
    leaves these fields, and the note's mtime, as they were. A guide's text that reads as Anki
    markup (``[sound:...]``, ``[latex]``) is shown as written. With ``link`` (decks.yaml's
    ``source_url``, filled in), the source names the guide as a link to the card's section.
    """
    fields = _fields(card, guide, shuffle, link)
    if media is None:
        media = Media(Path(card.loc.path).parent, Path(card.loc.path).parent)
    return {name: inert(media.place(value, card.loc)) for name, value in fields.items()}


def _fields(card: Card, guide: Guide, shuffle: bool, link: str | None) -> dict[str, str]:
    name = html.escape(_file_name(card.loc.path))
    source = f'<a href="{html.escape(link)}">{name}</a>' if link else name
    common = {"Guide": inline_html(guide.title), "Source": source}
    return {**common, **KINDS.of(card).fields(card, guide, shuffle)}


def section_html(card: Card) -> str:
    """The title of the question section a card stands in ("" outside one)."""
    section = card.section
    return inline_html(section.title) if section is not None else ""


def _file_name(path: str) -> str:
    # Only the file name: a deck must not carry the author's folders, and must be the same bytes
    # whichever folder it was built from.
    return path.replace("\\", "/").rsplit("/", 1)[-1]
