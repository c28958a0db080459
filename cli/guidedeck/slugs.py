"""Slugs: the ASCII names guidedeck makes from titles (deck pages, card keys, tags)."""

from __future__ import annotations

import re

_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes (``"GitHub Actions"`` -> ``"github-actions"``)."""
    return _SLUG.sub("-", text.lower()).strip("-") or "guide"


__all__ = ["slugify"]
