"""``guidedeck preview``: every card's front and back as a phone shows it, in a self-contained site.

Cards are rendered from the notetypes' own templates and CSS by :func:`render_template`, which
does what Anki's template engine does for the syntax guidedeck's templates use (fields,
``{{#Field}}`` / ``{{^Field}}`` sections, ``{{FrontSide}}``); a test holds its output equal to
Anki's ``card.render_output()`` for every card the suite builds, so Anki itself is not needed at
run time. The pages load nothing from the network (a Content-Security-Policy forbids it).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from guidedeck.cache import Cache
from guidedeck.cards import KINDS
from guidedeck.config import PackageConfig, short_name
from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.models import CardKind
from guidedeck.notetypes import design, stylesheet
from guidedeck.package import write_atomic
from guidedeck.plan import BuildOptions
from guidedeck.resources import data_dir
from guidedeck.slugs import slugify

_TAG = re.compile(r"{{\s*([#^/]?)\s*([^}]*?)\s*}}")
_EMPTY = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.IGNORECASE | re.DOTALL)


def field_is_empty(text: str) -> bool:
    """Anki's rule: only whitespace and ``<br>``/``<div>`` tags count as empty."""
    return bool(_EMPTY.match(text))


def render_template(template: str, fields: Mapping[str, str], front_side: str = "") -> str:
    """Fill an Anki card template: ``{{Field}}``, ``{{#Field}}..{{/Field}}``, ``{{^Field}}..``."""
    out: list[str] = []
    # stack of (section field, negated, whether the enclosing output is shown)
    stack: list[tuple[str, bool, bool]] = []
    showing = True
    pos = 0
    for m in _TAG.finditer(template):
        if showing:
            out.append(template[pos : m.start()])
        pos = m.end()
        sigil, name = m.groups()
        if sigil in ("#", "^"):
            stack.append((name, sigil == "^", showing))
            present = not field_is_empty(_value(fields, name, front_side))
            showing = showing and (present != (sigil == "^"))
        elif sigil == "/":
            if not stack or stack[-1][0] != name:
                raise ValueError(f"template closes {{{{/{name}}}}} that is not open")
            showing = stack.pop()[2]
        elif showing:
            out.append(_value(fields, name, front_side))
    if stack:
        raise ValueError(f"template never closes {{{{#{stack[-1][0]}}}}}")
    if showing:
        out.append(template[pos:])
    return "".join(out)


def _value(fields: Mapping[str, str], name: str, front_side: str) -> str:
    if name == "FrontSide":
        return front_side
    if name not in fields:
        raise KeyError(f"template uses a field the notetype lacks: {name}")
    return fields[name]


@dataclass(frozen=True, slots=True)
class PreviewCard:
    """One card as the preview shows it."""

    kind: CardKind
    source: str
    """``path:line`` of the block the card came from."""
    front: str
    back: str


@dataclass
class PreviewDeck:
    """A deck's page: its cards in guide order."""

    name: str
    page: str
    cards: list[PreviewCard] = field(default_factory=list)


@dataclass
class PreviewReport:
    """What ``preview`` wrote and what it found wrong."""

    decks: list[PreviewDeck] = field(default_factory=list)
    index: Path | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def card_sides(kind: CardKind, fields: Mapping[str, str]) -> tuple[str, str]:
    """Front and back HTML of a note, as Anki renders them."""
    notetype = design(kind)
    front = render_template(notetype.front, fields)
    return front, render_template(notetype.back, fields, front_side=front)


def collect(
    packages: Sequence[PackageConfig],
    strict: bool = False,
    cache: Cache | None = None,
    jobs: int = 1,
    decks_dir: Path = Path("build"),
) -> tuple[list[PreviewDeck], list[Diagnostic], dict[str, Path]]:
    """Every guide of ``packages`` as a build in ``decks_dir`` makes it, grouped into decks:
    prepared, matched to the notes remembered there and beside the guides, each note with the
    ``ID`` the build gives it. Nothing is written."""
    from guidedeck.commit import matched_build, notes_by_guide

    decks: dict[str, PreviewDeck] = {}
    images: dict[str, Path] = {}
    options = BuildOptions(decks_dir, strict, dry_run=True, jobs=jobs)
    with matched_build(packages, options, cache, finish_interrupted=False, keep_cache=True) as (
        plan,
        ids,
    ):
        for _config, name, ready, notes in notes_by_guide(plan, ids):
            images.update(ready.media)
            deck = decks.setdefault(name, PreviewDeck(name, _page_name(name, decks)))
            for card, note in zip(ready.cards, notes, strict=True):
                front, back = card_sides(card.kind, note.fields)
                deck.cards.append(PreviewCard(card.kind, card.source, front, back))
    # a guide in two packages: its problems once
    diagnostics = list(dict.fromkeys(plan.report.diagnostics))
    return list(decks.values()), diagnostics, images


_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".svg": "image/svg+xml", ".webp": "image/webp"}  # fmt: skip


def inline_images(decks: Sequence[PreviewDeck], images: Mapping[str, Path]) -> None:
    """Put each card image into the page as a data: URL: the pages load nothing, not even a
    file beside them (their Content-Security-Policy allows images from data: only)."""
    if not images:
        return
    urls = {
        name: f"data:{_MIME[path.suffix.lower()]};base64,"
        + base64.b64encode(path.read_bytes()).decode("ascii")
        for name, path in images.items()
    }
    for deck in decks:
        for n, card in enumerate(deck.cards):
            front, back = card.front, card.back
            for name, url in urls.items():
                front = front.replace(f'src="{name}"', f'src="{url}"')
                back = back.replace(f'src="{name}"', f'src="{url}"')
            deck.cards[n] = PreviewCard(card.kind, card.source, front, back)


def _page_name(name: str, taken: Mapping[str, PreviewDeck]) -> str:
    base = short_name(slugify(name.rsplit("::", 1)[-1]), 80)
    used = {deck.page for deck in taken.values()}
    page, n = f"{base}.html", 1
    while page in used:
        n += 1
        page = f"{base}-{n}.html"
    return page


@dataclass(frozen=True)
class Live:
    """What ``guidedeck serve`` adds to every page: the guides' problems on top, and a script
    that reloads the page when the server says it changed."""

    problems: Sequence[Diagnostic] = ()


TAG_MARK = "__GD_TAG__"
"""In a live page's script: replaced by the page's tag (a digest of the page) once it is made."""


def _page(title: str, body: str, script: bool, live: Live | None = None) -> str:
    folder = data_dir("templates") / "preview"
    skeleton = Template((folder / "page.html").read_text(encoding="utf-8"))
    live_js = (folder / "live.js").read_text(encoding="utf-8") if live else ""
    return skeleton.substitute(
        title=html.escape(title),
        chrome_css=(folder / "preview.css").read_text(encoding="utf-8"),
        card_css=stylesheet(),
        body=body,
        script=(folder / "preview.js").read_text(encoding="utf-8") if script else "",
        # a live page may talk to the server it came from, and to nothing else
        connect="; connect-src 'self'" if live else "",
        banner=_banner(live.problems) if live else "",
        live=f"<script>\n{live_js}</script>\n" if live else "",
    )


def _banner(problems: Sequence[Diagnostic]) -> str:
    if not problems:
        return ""
    e = html.escape
    items = "".join(f'<li class="pv-{d.severity.value}">{e(str(d))}</li>' for d in problems[:200])
    more = f"<li>… and {len(problems) - 200} more</li>" if len(problems) > 200 else ""
    return (
        f'<aside class="pv-problems" role="status" lang="en"><h2>{len(problems)} problem(s) in the '
        f"guides</h2><ul>{items}{more}</ul></aside>"
    )


def deck_page(deck: PreviewDeck, live: Live | None = None) -> str:
    """The HTML page of one deck: controls, then every card's front and back."""
    e = html.escape
    kinds = [k for k in KINDS.kinds() if any(c.kind == k for c in deck.cards)]
    choices = ['<option value="">All kinds</option>']
    choices += [f'<option value="{k.value}">{k.value.capitalize()}</option>' for k in kinds]
    articles = [_article(n, card) for n, card in enumerate(deck.cards, start=1)]
    # one line of title and one of controls: the sticky bar stays a small part of a phone screen
    body = (
        f'<header class="pv-bar" lang="en"><div class="pv-title">'
        f'<a class="pv-up" href="index.html" aria-label="All decks">&lsaquo; Decks</a>'
        f'<h1 title="{e(deck.name)}">{e(deck.name)}</h1>'
        f'<button type="button" id="pv-night" aria-pressed="false" aria-label="Night mode" '
        f'title="Night mode">☾</button></div>'
        f'<div class="pv-controls" role="toolbar" aria-label="Show cards">'
        f'<select id="pv-filter" aria-label="Card kind">{"".join(choices)}</select>'
        f'<input id="pv-search" type="search" placeholder="Search" aria-label="Search cards">'
        f'<span id="pv-count" class="pv-count" aria-live="polite"></span></div></header>'
        f'<main class="pv-main">{"".join(articles)}</main>'
    )
    return _page(deck.name, body, script=True, live=live)


def _article(n: int, card: PreviewCard) -> str:
    e = html.escape
    # a back that runs a script (a quiz marking the option tapped on its front) is kept unrun
    # too, so that a tap on the front can show that back again, as a client flips to it
    again = f'<template class="pv-back-source">{card.back}</template>'
    again = again if "<script" in card.back else ""
    return (
        f'<article class="pv-card" data-kind="{card.kind.value}" id="card-{n}">'
        f'<p class="pv-meta" lang="en"><span class="pv-kind">{card.kind.value}</span> · '
        f'<span class="pv-source">{e(card.source)}</span></p><div class="pv-sides">'
        f'<section class="pv-side pv-front"><h2 lang="en">Front</h2><div class="pv-phone">'
        f'<div class="card">{card.front}</div></div></section>'
        f'<section class="pv-side pv-back"><h2 lang="en">Back</h2><div class="pv-phone">'
        f'<div class="card">{card.back}</div></div>{again}</section></div></article>'
    )


def index_page(decks: Sequence[PreviewDeck], live: Live | None = None) -> str:
    """The site's front page: every deck, with its card count per kind."""
    e = html.escape
    items = []
    for deck in decks:
        counts = ", ".join(
            f"{sum(1 for c in deck.cards if c.kind == k)} {k.value}"
            for k in KINDS.kinds()
            if any(c.kind == k for c in deck.cards)
        )
        items.append(
            f'<li><a href="{e(deck.page)}">{e(deck.name)}</a><br>'
            f'<span class="pv-count">{len(deck.cards)} cards: {counts or "none"}</span></li>'
        )
    listing = (
        f'<ul class="pv-decks">{"".join(items)}</ul>'
        if items
        else ('<p class="pv-empty">No cards.</p>')
    )
    body = (
        '<header class="pv-bar" lang="en"><h1>guidedeck preview</h1></header>'
        f'<main class="pv-main">{listing}</main>'
    )
    return _page("guidedeck preview", body, script=False, live=live)


def preview(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    *,
    strict: bool = False,
    cache: Cache | None = None,
    decks_dir: Path = Path("build"),
) -> PreviewReport:
    """Write ``index.html`` and a page per deck into ``out_dir``, each note with the ``ID`` a
    build into ``decks_dir`` gives it; report problems."""
    decks, diagnostics, images = collect(packages, strict, cache, decks_dir=decks_dir)
    report = PreviewReport(decks, None, diagnostics)
    inline_images(decks, images)
    try:
        for deck in decks:
            write_atomic(out_dir / deck.page, deck_page(deck).encode("utf-8"))
        index = out_dir / "index.html"
        write_atomic(index, index_page(decks).encode("utf-8"))
        report.index = index
    except OSError as exc:
        where = SourceLoc(str(out_dir), 1)
        report.diagnostics.append(Diagnostic.error(where, f"cannot write: {exc.strerror}"))
    return report
