"""Code blocks: Pygments at build time, CSS classes under one prefix, light and night colours.

Colours never go inline: a card only carries classes, and the notetype's CSS (from
:func:`code_css`) colours them, so night mode can restyle every token. Token colours are taken
from a Pygments style and then nudged, where needed, until each reaches :data:`MIN_CONTRAST`
against the code background it sits on.
"""

from __future__ import annotations

import html
from functools import lru_cache

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, Token
from pygments.util import ClassNotFound

PREFIX = "gd-"
MAX_LINES = 60
"""Longer blocks show their first MAX_LINES lines and say how many more there are."""
TRIM_SLACK = 5
"""A block only a few lines over the limit is shown whole: hiding 2 lines helps nobody."""
MIN_CONTRAST = 4.5
"""Every token colour reaches this ratio against the code background (the issue asks 3:1)."""

LIGHT_STYLE, LIGHT_BG = "default", "#f6f8fa"
DARK_STYLE, DARK_BG = "github-dark", "#111418"

PLAIN = frozenset({"", "text", "plaintext", "plain", "txt", "log", "output", "none", "nohighlight"})
ALIASES = {
    "tf": "terraform",
    "hcl": "terraform",
    "shell": "bash",
    "sh": "bash",
    "zsh": "bash",
    "console": "console",
    "shell-session": "console",
    "yml": "yaml",
    "dockerfile": "docker",
    "golang": "go",
    "ts": "typescript",
    "js": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "py": "python",
    "python3": "python",
    "mdx": "markdown",
    "md": "markdown",
    "jsonc": "json",
    "ps1": "powershell",
    "k8s": "yaml",
}

_FORMATTER = HtmlFormatter(nowrap=True, classprefix=PREFIX)


def fence_language(info: str) -> str:
    """The language word of a fence's info string (```` ```python title="x" ```` -> python)."""
    word = info.strip().split(maxsplit=1)[0] if info.strip() else ""
    return word.strip("{}.").lower()


@lru_cache(maxsize=128)
def lexer_for(language: str) -> Lexer | None:
    """The Pygments lexer for a fence language, or None: shown as plain escaped text."""
    name = language.lower()
    if name in PLAIN:
        return None
    try:
        return get_lexer_by_name(ALIASES.get(name, name), stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def highlight(code: str, language: str) -> str:
    """A ``<pre class="gd-code">`` block of ``code``, highlighted when the language is known."""
    lines = code.rstrip("\n").split("\n")
    hidden = len(lines) - MAX_LINES
    if hidden > TRIM_SLACK:
        lines = lines[:MAX_LINES]
    else:
        hidden = 0
    text = "\n".join(lines)
    lexer = lexer_for(language)
    body = pygments_highlight(text, lexer, _FORMATTER) if lexer else html.escape(text)
    label = html.escape(language, quote=True)
    block = f'<pre class="gd-code" data-lang="{label}"><code>{body.rstrip(chr(10))}</code></pre>'
    if hidden:
        block += f'<p class="gd-more">… {hidden} more lines</p>'
    return block


# --- CSS ------------------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours."""
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _normal(colour: str) -> str:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    return "#" + colour.lower()


def readable(fg: str, bg: str, minimum: float = MIN_CONTRAST) -> str:
    """``fg``, moved toward black or white (whichever is further from ``bg``) until readable."""
    fg, bg = _normal(fg), _normal(bg)
    target = 0 if _luminance(bg) > 0.5 else 255
    rgb = [int(fg[i : i + 2], 16) for i in (1, 3, 5)]
    for step in range(21):
        mix = step / 20
        colour = "#" + "".join(f"{round(c + (target - c) * mix):02x}" for c in rgb)
        if contrast(colour, bg) >= minimum:
            return colour
    return "#000000" if target == 0 else "#ffffff"


def _token_rules(style_name: str, background: str, scope: str) -> list[str]:
    style = get_style_by_name(style_name)
    default = readable(style.style_for_token(Token.Text)["color"] or "#000000", background)
    rules = [f"{scope} {{ color: {default}; }}"]
    for ttype, short in sorted(STANDARD_TYPES.items(), key=lambda item: item[1]):
        if not short:
            continue
        spec = style.style_for_token(ttype)
        parts = []
        if spec["color"]:
            parts.append(f"color: {readable(spec['color'], background)}")
        if spec["bold"]:
            parts.append("font-weight: bold")
        if spec["italic"]:
            parts.append("font-style: italic")
        if parts:
            rules.append(f"{scope} .{PREFIX}{short} {{ {'; '.join(parts)}; }}")
    return rules


@lru_cache(maxsize=1)
def code_css() -> str:
    """Token colours for light cards and for both night-mode markers, contrast-checked."""
    light = _token_rules(LIGHT_STYLE, LIGHT_BG, ".gd-code")
    dark: list[str] = []
    for marker in (".nightMode", ".night_mode"):
        dark.extend(_token_rules(DARK_STYLE, DARK_BG, f"{marker} .gd-code"))
    return "\n".join(["/* code tokens (generated from Pygments styles) */", *light, *dark]) + "\n"
