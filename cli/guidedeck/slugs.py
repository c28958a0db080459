"""Slugs: the ASCII names guidedeck makes from titles (deck pages, card keys, tags), and the
anchors a Markdown host gives headings (links from a card back to its section)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes (``"GitHub Actions"`` -> ``"github-actions"``)."""
    return _SLUG.sub("-", text.lower()).strip("-") or "guide"


_MARKUP = re.compile(r"<[^>]*>|!?\[([^\]]*)\]\([^)]*\)|[*`~]|(?<!\w)_|_(?!\w)")


def heading_text(markdown: str) -> str:
    """The text a heading's inline Markdown shows: tags dropped, links and images as their text,
    emphasis and code marks dropped (what a host makes its anchor from)."""
    return _MARKUP.sub(lambda m: m.group(1) or "", markdown).strip()


def github_anchor(text: str) -> str:
    """The anchor GitHub gives a heading showing ``text`` (before duplicates are numbered):
    lower case; letters, marks, digits, ``_`` and ``-`` kept, every space a ``-``, the rest
    (punctuation, symbols, emoji) dropped."""
    kept = [
        "-" if c == " " else c
        for c in text.lower()
        if c in " -_" or unicodedata.category(c)[0] in "LMN"
    ]
    return "".join(kept)


def github_anchors(texts: Iterable[str]) -> list[str]:
    """The anchors of a document's headings, in order: a repeated one gets ``-1``, ``-2``..."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for text in texts:
        base = slug = github_anchor(text)
        while slug in seen:
            seen[base] += 1
            slug = f"{base}-{seen[base]}"
        seen[slug] = 0
        out.append(slug)
    return out


__all__ = ["github_anchor", "github_anchors", "heading_text", "slugify"]
