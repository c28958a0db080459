"""guidedeck's notetypes: fixed ids, frozen field lists, templates and CSS from templates/.

Anki matches an imported notetype by its id and compares the *names* of its fields and templates;
any change there makes Anki add a copy of the notetype and skip updating every existing note. So
the ids in each kind's record (:mod:`guidedeck.cards`) are fixed forever and the field lists are
frozen by a test
(``tests/test_notetypes.py``). Templates and CSS may change freely: Anki applies them when the
notetype's mtime is newer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from guidedeck.cards import KINDS, NotetypeSpec
from guidedeck.highlight import code_css
from guidedeck.resources import data_dir


def spec(kind: str) -> NotetypeSpec:
    """The notetype of card kind ``kind`` (its ids are the registry's: :mod:`guidedeck.cards`)."""
    return KINDS[kind].notetype


@dataclass(frozen=True, slots=True)
class NotetypeDesign:
    """A notetype's spec with the templates and CSS it ships with."""

    spec: NotetypeSpec
    front: str
    back: str
    css: str


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The one stylesheet every notetype carries: card layout, then code token colours."""
    base = (data_dir("templates") / "style.css").read_text(encoding="utf-8")
    return base + "\n" + code_css()


@lru_cache(maxsize=16)
def design(kind: str) -> NotetypeDesign:
    """Templates and CSS for ``kind`` read from its templates folder."""
    folder = KINDS[kind].templates
    return NotetypeDesign(
        KINDS[kind].notetype,
        _with_includes((folder / "front.html").read_text(encoding="utf-8"), folder),
        _with_includes((folder / "back.html").read_text(encoding="utf-8"), folder),
        stylesheet(),
    )


_INCLUDE = re.compile(r"/\*include:([\w.-]+)\*/")


def _with_includes(template: str, folder: Path) -> str:
    """``template`` with each ``/*include:name.js*/`` replaced by that file of ``folder``: one
    script shared by a notetype's front and back."""

    def include(match: re.Match[str]) -> str:
        return (folder / match.group(1)).read_text(encoding="utf-8").strip()

    return _INCLUDE.sub(include, template)


def schema_hash(spec: NotetypeSpec) -> str:
    """Hash of what Anki compares on import: the notetype's field and template names."""
    text = "\x1f".join([spec.name, *spec.fields, "\x1e", spec.template])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def design_hash(notetype: NotetypeDesign) -> str:
    """Hash of the templates and CSS: when it changes, users' notetypes need the update."""
    text = "\x1f".join([notetype.front, notetype.back, notetype.css])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
