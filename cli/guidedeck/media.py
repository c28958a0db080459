"""Images in guides: local ones travel inside the deck as Anki media, remote ones are reported.

Phones review offline, so an image on the web would be a broken picture on the train. A local
image (``![diagram](img/flow.png)``, ``<img src="img/flow.png">``) is copied into the package
under a name made from its content (``gd-<hash>.png``: two guides' ``logo.png`` never collide,
and an unchanged image keeps its name, so the note keeps its mtime).
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from guidedeck.diagnostics import Diagnostic, SourceLoc

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"})
MAX_IMAGE_BYTES = 8 * 1024 * 1024
_IMG = re.compile(r"<img\b(?P<attrs>[^>]*)>", re.IGNORECASE)
_SRC = re.compile(r"\bsrc=\"(?P<src>[^\"]*)\"", re.IGNORECASE)
_ALT = re.compile(r"\balt=\"(?P<alt>[^\"]*)\"", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass
class Media:
    """The images one guide's cards show, and the problems met finding them."""

    folder: Path
    """The guide's folder: image paths are relative to it."""
    root: Path
    """The folder images must be in (the project's): a guide from a stranger's repository must
    not package a file from elsewhere on the machine."""
    files: dict[str, Path] = field(default_factory=dict)
    """Name in the package -> file on disk."""
    problems: list[Diagnostic] = field(default_factory=list)
    looked: dict[str, str] = field(default_factory=dict)
    """Every file looked for -> its content digest ("" when absent): what the cards depend on."""

    def place(self, fragment: str, where: SourceLoc) -> str:
        """``fragment`` with each image pointing at its packaged copy; images that cannot
        travel (remote, missing, not an image) become their alt text, reported at ``where``."""
        return _IMG.sub(lambda m: self._image(m, where), fragment)

    def _image(self, match: re.Match[str], where: SourceLoc) -> str:
        src_match, alt_match = _SRC.search(match["attrs"]), _ALT.search(match["attrs"])
        src = html.unescape(src_match["src"]) if src_match else ""
        alt = alt_match["alt"] if alt_match else ""
        fallback = f"<em>[image: {alt}]</em>" if alt else ""
        if _SCHEME.match(src) or src.startswith("//"):
            self._report(
                where,
                f"image {src[:80]} is on the web and not shown (cards are "
                "reviewed offline): save it beside the guide and link it relatively",
            )
            return fallback  # fmt: skip
        # as written (a link re-pointed is another picture), and where it really is
        written = Path(os.path.normpath(self.folder / src.split("#", 1)[0].split("?", 1)[0]))
        path = written.resolve()
        if not path.is_relative_to(self.root.resolve()):
            self._report(where, f"image {src[:80]!r} is outside {self.root}; not shown "
                                "(guidedeck reads only inside the guides' folder)")  # fmt: skip
            return fallback
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            if path.suffix.lower() in IMAGE_SUFFIXES:
                self.looked[str(written)] = ""
            self._report(where, f"image {src[:80]!r} not found beside the guide; not shown")
            return fallback
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.looked[str(written)] = ""
            self._report(where, f"image {src[:80]!r} cannot be read ({exc.strerror})")
            return fallback
        digest = hashlib.sha256(data).hexdigest()
        self.looked[str(written)] = digest
        if len(data) > MAX_IMAGE_BYTES:
            self._report(where, f"image {src[:80]!r} is over 8 MiB; not shown")
            return fallback
        name = f"gd-{digest[:16]}{path.suffix.lower()}"
        self.files[name] = path
        return f'<img src="{name}" alt="{alt}">'

    def _report(self, where: SourceLoc, message: str) -> None:
        problem = Diagnostic.warning(where, message)
        if problem not in self.problems:
            self.problems.append(problem)


__all__ = ["IMAGE_SUFFIXES", "Media"]
