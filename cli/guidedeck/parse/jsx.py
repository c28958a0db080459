"""Scanning MDX (JSX) tags and the JavaScript literals in their attributes.

Only what guides use is understood: attribute values as ``"..."``, ``'...'``, `` `...` `` or
``{...}`` (balanced braces; strings, template literals and comments inside are skipped correctly),
and inside ``{...}`` the literal subset of JavaScript (strings, template literals, numbers,
booleans, ``null``, arrays, objects). Anything else in braces is kept as :class:`JsRaw` source
text, never evaluated.

Every scan moves forward only and each character is looked at a bounded number of times, so the
time is linear in the input even for hostile text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias, Union

MAX_TAG_LINES = 400
"""A tag may span this many lines at most: bounds the damage (and the time) of an unclosed string.
Callers pass the offset this many lines on as ``limit``."""


class TemplateString(str):
    """A string written as a template literal: guides use those for code."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class JsRaw:
    """A JavaScript expression guidedeck does not evaluate, kept as source text."""

    text: str


JsValue: TypeAlias = Union[  # noqa: UP007 (a recursive alias must stay a Union on Python 3.10)
    str, int, float, bool, list["JsValue"], dict[str, "JsValue"], JsRaw, None
]


def as_text(value: str) -> str:
    """A JavaScript string as Markdown that shows it as written: MDX sites render these values as
    text, so ``Array<string>`` must not become a tag (and be dropped); code spans keep theirs."""
    parts = value.split("`")
    # even parts are outside code spans; a last backtick without its partner opens none
    unmatched = len(parts) % 2 == 0
    for n, part in enumerate(parts):
        if n % 2 == 0 or (unmatched and n == len(parts) - 1):
            parts[n] = _ENTITY.sub("&amp;", part).replace("<", "&lt;")
    return "`".join(parts)


_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
"""An ``&`` that Markdown would read as the start of an entity (``&lt;``): shown as written."""


@dataclass(frozen=True, slots=True)
class Attr:
    """One attribute of a tag."""

    name: str
    value: JsValue
    """``True`` for a bare attribute such as ``client:load``."""
    pos: int
    """Offset of the attribute name in the source."""


@dataclass(frozen=True, slots=True)
class Tag:
    """An opening or self-closing JSX tag."""

    name: str
    attrs: dict[str, Attr]
    self_closing: bool
    start: int
    """Offset of ``<``."""
    end: int
    """Offset just after ``>``."""


class JsxError(Exception):
    """A tag or literal that cannot be read; ``pos`` is where, ``resume`` where scanning gave up."""

    def __init__(self, message: str, pos: int, resume: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.resume = resume


_NAME = re.compile(r"[A-Za-z_$][\w$.:-]*")
_ATTR_NAME = re.compile(r"[^\s=/>{}\"'`<]+")
_WS = re.compile(r"\s*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class _BlankLines:
    """Finds the next blank line at or after an offset; offsets only grow, nothing is rescanned."""

    def __init__(self, src: str, limit: int) -> None:
        self.src, self.limit, self.at, self.found = src, limit, 0, -1

    def next_after(self, pos: int) -> int:
        if not self.at <= pos <= self.found:
            m = _BLANK_LINE.search(self.src, pos, self.limit)
            self.at, self.found = pos, (m.start() if m else self.limit)
        return self.found


def scan_tag(src: str, pos: int, limit: int) -> Tag:
    """Read the JSX tag starting at ``src[pos] == "<"``, not past ``limit``.

    Raise :class:`JsxError` if it is broken; its ``resume`` says where reading may go on.
    """
    m = _NAME.match(src, pos + 1)
    if m is None:
        raise JsxError("expected a component name after '<'", pos, pos + 1)
    name = m.group()
    i = m.end()
    attrs: dict[str, Attr] = {}
    blanks = _BlankLines(src, limit)
    try:
        return _scan_attrs(src, pos, i, limit, name, attrs, blanks)
    except JsxError as err:
        # A quote left open pairs with the next quote and the error surfaces later: name the
        # string that spans lines, which is where the author has to look.
        suspect = next(
            (
                a
                for a in reversed(attrs.values())
                if isinstance(a.value, str)
                and "\n" in a.value
                and src[_value_start(src, a)] in "\"'"
            ),
            None,
        )
        if suspect is not None and err.pos > suspect.pos:
            hint = f" (is the string of {suspect.name!r} closed? it spans several lines)"
            raise JsxError(err.message + hint, err.pos, err.resume) from None
        raise


def _value_start(src: str, attr: Attr) -> int:
    eq = src.find("=", attr.pos)
    return _WS.match(src, eq + 1).end() if eq >= 0 else attr.pos  # type: ignore[union-attr]


def _scan_attrs(
    src: str, pos: int, i: int, limit: int, name: str, attrs: dict[str, Attr], blanks: _BlankLines
) -> Tag:
    while True:
        i = _WS.match(src, i, limit).end()  # type: ignore[union-attr]
        if i >= limit:
            raise JsxError(f"<{name}> tag is never closed with '>' or '/>'", pos, limit)
        ch = src[i]
        if src.startswith("/>", i):
            return Tag(name, attrs, True, pos, i + 2)
        if ch == ">":
            return Tag(name, attrs, False, pos, i + 1)
        if ch == "{":
            # {...spread} or {/* comment */}: skipped, it carries nothing a card uses
            i = scan_expression(src, i, limit)
            continue
        am = _ATTR_NAME.match(src, i, limit)
        if am is None:
            raise JsxError(f"unexpected {ch!r} in <{name}> tag", i, i + 1)
        attr_name, attr_pos = am.group(), i
        i = _WS.match(src, am.end(), limit).end()  # type: ignore[union-attr]
        if i < limit and src[i] == "=":
            i = _WS.match(src, i + 1, limit).end()  # type: ignore[union-attr]
            value, i = _scan_attr_value(src, i, limit, blanks, name, attr_name)
        else:
            value = True
        if attr_name in attrs:
            raise JsxError(f"attribute {attr_name!r} given twice in <{name}>", attr_pos, i)
        attrs[attr_name] = Attr(attr_name, value, attr_pos)


def _scan_attr_value(
    src: str, i: int, limit: int, blanks: _BlankLines, tag: str, attr: str
) -> tuple[JsValue, int]:
    if i >= limit:
        raise JsxError(f"attribute {attr!r} of <{tag}> has no value", i, limit)
    ch = src[i]
    if ch in "\"'":
        return _scan_attr_string(src, i, blanks.next_after(i), tag, attr)
    if ch == "`":
        end = _scan_template(src, i, limit)
        return _cook_template(src[i + 1 : end - 1]), end
    if ch == "{":
        end = scan_expression(src, i, limit)
        return parse_js_value(src[i + 1 : end - 1]), end
    raise JsxError(f"attribute {attr!r} of <{tag}> needs a quoted or {{...}} value", i, i + 1)


def _scan_attr_string(src: str, i: int, stop: int, tag: str, attr: str) -> tuple[str, int]:
    # JSX attribute strings may span lines; a blank line inside one (``stop``) means the quote was
    # never closed, and stopping there keeps the rest of the guide parseable.
    quote = src[i]
    j = i + 1
    while True:
        k = _find_any(src, quote + "\\", j, stop)
        if k < 0:
            raise JsxError(f"string in attribute {attr!r} of <{tag}> is never closed", i, stop)
        if src[k] == "\\":
            j = k + 2
            continue
        raw = src[i + 1 : k]
        # Guides escape the delimiter with a backslash although JSX itself has no escapes; every
        # other backslash is kept, since the text is Markdown where backslashes mean something.
        return raw.replace("\\" + quote, quote), k + 1


def _find_any(src: str, chars: str, start: int, stop: int) -> int:
    best = -1
    for c in chars:
        k = src.find(c, start, stop)
        if k >= 0 and (best < 0 or k < best):
            best = k
    return best


_EXPR_STOP = re.compile(r"[{}\[\]()\"'`/]")


def scan_expression(src: str, i: int, limit: int) -> int:
    """Skip the balanced ``{...}`` starting at ``src[i]``; return the offset after its ``}``."""
    closers = {"{": "}", "[": "]", "(": ")"}
    stack: list[str] = []
    j = i
    while True:
        m = _EXPR_STOP.search(src, j, limit)
        if m is None:
            raise JsxError("'{' is never closed", i, limit)
        k = m.start()
        ch = src[k]
        if ch in closers:
            stack.append(closers[ch])
            j = k + 1
        elif ch in "}])":
            if not stack or stack[-1] != ch:
                raise JsxError(f"unbalanced {ch!r} in expression", k, k + 1)
            stack.pop()
            j = k + 1
            if not stack:
                return j
        elif ch in "\"'":
            j = _scan_js_string(src, k, limit)
        elif ch == "`":
            j = _scan_template(src, k, limit)
        elif src.startswith("//", k):
            nl = src.find("\n", k, limit)
            j = limit if nl < 0 else nl + 1
        elif src.startswith("/*", k):
            close = src.find("*/", k + 2, limit)
            if close < 0:
                raise JsxError("comment is never closed", k, limit)
            j = close + 2
        else:
            j = k + 1


def _scan_js_string(src: str, i: int, limit: int) -> int:
    quote = src[i]
    j = i + 1
    while True:
        k = _find_any(src, quote + "\\\n", j, limit)
        if k < 0 or src[k] == "\n":
            stop = limit if k < 0 else k
            raise JsxError("string is never closed on its line", i, stop)
        if src[k] == "\\":
            j = k + 2
            continue
        return k + 1


def _scan_template(src: str, i: int, limit: int) -> int:
    j = i + 1
    while True:
        k = _find_any(src, "`\\$", j, limit)
        if k < 0:
            raise JsxError("template literal is never closed", i, limit)
        ch = src[k]
        if ch == "\\":
            j = k + 2
        elif ch == "$":
            j = scan_expression(src, k + 1, limit) if src.startswith("${", k) else k + 1
        else:
            return k + 1


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_ESCAPE_RE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r?\n|.)", re.S)


def _unescape(body: str) -> str:
    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] == "u" and len(esc) > 1:
            digits = esc[2:-1] if esc[1] == "{" else esc[1:]
            code = int(digits, 16)
            return chr(code) if code <= 0x10FFFF else ""
        if esc[0] == "x" and len(esc) == 3:
            return chr(int(esc[1:], 16))
        if esc in ("\n", "\r\n"):
            return ""  # line continuation
        return _ESCAPES.get(esc, esc)

    # JS strings are UTF-16: an escaped pair (\uD83D\uDE00) is one character; a lone half
    # stays, and the card holding it is reported and skipped (no file can store it)
    return _PAIR.sub(_join_pair, _ESCAPE_RE.sub(repl, body))


_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _join_pair(m: re.Match[str]) -> str:
    high, low = (ord(c) for c in m.group(0))
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def _cook_template(body: str) -> TemplateString:
    # ${...} cannot be evaluated: it stays as written so the reader still sees it.
    return TemplateString(_unescape(body))


# --- JavaScript literal values -------------------------------------------------------------------

_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_SPACE_OR_COMMENT = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.S)


class _NotLiteralError(Exception):
    pass


def parse_js_value(text: str) -> JsValue:
    """The value of a JavaScript literal expression, or :class:`JsRaw` when it is not one."""
    try:
        value, i = _value(text, _skip(text, 0))
        if _skip(text, i) != len(text):
            raise _NotLiteralError
        return value
    except (_NotLiteralError, JsxError, IndexError, ValueError):
        return JsRaw(text.strip())


def _skip(text: str, i: int) -> int:
    return _SPACE_OR_COMMENT.match(text, i).end()  # type: ignore[union-attr]


def _value(text: str, i: int) -> tuple[JsValue, int]:
    if i >= len(text):
        raise _NotLiteralError
    ch = text[i]
    if ch in "\"'":
        end = _scan_js_string(text, i, len(text))
        return _unescape(text[i + 1 : end - 1]), end
    if ch == "`":
        end = _scan_template(text, i, len(text))
        return _cook_template(text[i + 1 : end - 1]), end
    if ch == "[":
        return _array(text, i)
    if ch == "{":
        return _object(text, i)
    if ch == "(":
        value, j = _value(text, _skip(text, i + 1))
        j = _skip(text, j)
        if j >= len(text) or text[j] != ")":
            raise _NotLiteralError
        return value, j + 1
    m = _NUMBER.match(text, i)
    if m and not _IDENT.match(text, m.end()):
        literal = m.group().replace("_", "")
        if literal.lower().startswith(("0x", "-0x")):
            return int(literal, 16), m.end()
        number = float(literal)
        return (int(number) if number.is_integer() and "." not in literal else number), m.end()
    m = _IDENT.match(text, i)
    if m:
        word = {"true": True, "false": False, "null": None, "undefined": None}
        if m.group() in word:
            return word[m.group()], m.end()
    raise _NotLiteralError


def _array(text: str, i: int) -> tuple[list[JsValue], int]:
    items: list[JsValue] = []
    j = _skip(text, i + 1)
    while True:
        if text[j] == "]":
            return items, j + 1
        value, j = _value(text, j)
        items.append(value)
        j = _skip(text, j)
        if text[j] == ",":
            j = _skip(text, j + 1)
        elif text[j] != "]":
            raise _NotLiteralError


def _object(text: str, i: int) -> tuple[dict[str, JsValue], int]:
    obj: dict[str, JsValue] = {}
    j = _skip(text, i + 1)
    while True:
        if text[j] == "}":
            return obj, j + 1
        if text[j] in "\"'":
            end = _scan_js_string(text, j, len(text))
            key = _unescape(text[j + 1 : end - 1])
        else:
            m = _IDENT.match(text, j) or _NUMBER.match(text, j)
            if m is None:
                raise _NotLiteralError
            key, end = m.group(), m.end()
        j = _skip(text, end)
        if text[j] != ":":
            raise _NotLiteralError
        value, j = _value(text, _skip(text, j + 1))
        obj[key] = value
        j = _skip(text, j)
        if text[j] == ",":
            j = _skip(text, j + 1)
        elif text[j] != "}":
            raise _NotLiteralError
