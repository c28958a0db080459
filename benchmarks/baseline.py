"""The bare baseline guidedeck is measured against (issue 8).

For every guide: markdown-it-py parses it, Pygments highlights every fence, one genanki note is
made per block; then one package is written. Run by the same interpreter as guidedeck.
Usage: python benchmarks/baseline.py GUIDE_DIR OUT_FILE
"""

from __future__ import annotations

import sys
from pathlib import Path

import genanki
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

MODEL = genanki.Model(
    1_234_567_890,
    "baseline",
    fields=[{"name": "Text"}],
    templates=[{"name": "Card", "qfmt": "{{Text}}", "afmt": "{{Text}}"}],
)


def main() -> None:
    guide_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    md = MarkdownIt("commonmark").enable("table")
    formatter = HtmlFormatter()
    deck = genanki.Deck(2_059_400_110, "baseline")
    for n, guide in enumerate(sorted(guide_dir.glob("*.md"))):
        for m, token in enumerate(md.parse(guide.read_text(encoding="utf-8"))):
            if token.nesting == -1:
                continue
            text = token.content
            if token.type == "fence":
                try:
                    lexer = get_lexer_by_name(token.info.split()[0] if token.info else "text")
                except ClassNotFound:
                    lexer = get_lexer_by_name("text")
                text = highlight(token.content, lexer, formatter)
            deck.add_note(genanki.Note(model=MODEL, fields=[text or token.type],
                                       guid=f"{n}-{m}"))  # fmt: skip
    genanki.Package(deck).write_to_file(out)


if __name__ == "__main__":
    main()
