"""The *prepare* stage: every guide read, parsed and rendered into cards ready for identities.

Guides are prepared in worker processes (``jobs`` > 1) and in order; a guide unchanged since an
earlier build (same bytes, configuration, images and guidedeck) comes from the cache instead,
and is not held by the build until it is written (:data:`Reload`). This is the one prepare stage
of ``build``, ``check``, ``list``, ``preview``, ``serve`` and ``push`` (``list`` calls
:func:`prepare` itself, to keep the card models).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from guidedeck.cache import Cache, guide_key
from guidedeck.codec import pack_prepared
from guidedeck.config import PackageConfig
from guidedeck.diagnostics import Diagnostic
from guidedeck.guides import MAX_GUIDE_BYTES, read_bounded, read_guide
from guidedeck.identity import Candidate, candidate, card_keys, fields_hash
from guidedeck.media import Media
from guidedeck.models import Card, CardKind, Guide
from guidedeck.slugs import slugify


def note_tags(guide: Guide, card: Card, extra: Sequence[str]) -> tuple[str, ...]:
    """Tags: guide, card kind, question category and type, and the configured extras."""
    tags = [f"guide::{guide.slug}", f"kind::{card.kind.value}"]
    section = card.section
    if section is not None and section.category:
        tags.append(f"category::{slugify(section.category)}")
    if section is not None and section.type:
        tags.append(f"type::{slugify(section.type)}")
    if section is not None:
        tags.extend(f"topic::{slugify(t)}" for t in section.tags)
    tags.extend("".join(t.split()) for t in extra)
    return tuple(dict.fromkeys(t for t in tags if t))


@dataclass(frozen=True, slots=True)
class RenderedCard:
    """A card ready to become a note: everything but its identity."""

    kind: CardKind
    fields: dict[str, str]
    """Every field but ``ID`` (HTML)."""
    tags: tuple[str, ...]
    fhash: str
    candidate: Candidate
    source: str = ""
    """``path:line`` of the card in its guide (for previews and reports)."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # rebuilt through __init__: dataclasses' own pickling of slotted classes sets each
        # field by name, and was the largest cost of a rebuild from the cache
        return (type(self), tuple(getattr(self, name) for name in self.__slots__))


@dataclass
class Prepared:
    """A guide read, parsed and rendered: everything a build needs but identities."""

    path: Path
    diagnostics: tuple[Diagnostic, ...]
    title: str = ""
    slug: str = ""
    cards: list[RenderedCard] = field(default_factory=list)
    usable: bool = False
    media: dict[str, Path] = field(default_factory=dict)
    """Images the cards show: name in the package -> file."""
    deps: dict[str, str] = field(default_factory=dict)
    """Files besides the guide the cards were made from (images) -> their content digest."""
    models: tuple[Card, ...] = ()
    """The cards as parsed, when asked for (``list``); a build needs only what they render to."""


def render(card: Card, guide: Guide, **options: Any) -> dict[str, str]:
    """:func:`guidedeck.render.render`, loaded on first use: a rebuild from the cache renders
    nothing and need not load markdown-it, nh3 and the MDX plugin."""
    from guidedeck import render as rendering

    return rendering.render(card, guide, **options)


def prepare(
    path: Path,
    kinds: Sequence[CardKind],
    tags: Sequence[str],
    strict: bool,
    shuffle: bool = False,
    dialect: str = "auto",
    root: Path | None = None,
    link: str | None = None,
    models: bool = False,
    data: bytes | None = None,
) -> Prepared:
    """Read (unless ``data`` holds the guide's bytes), parse and render one guide (``models``:
    keeping its card models); runs in a worker process when ``--jobs`` > 1."""
    read = read_guide(path, dialect, data)
    if read.result is None or not read.usable(strict):
        return Prepared(path, read.diagnostics)
    guide = read.result.guide
    cards = [c for c in guide.cards if c.kind in kinds]
    out = Prepared(path, read.diagnostics, guide.title, guide.slug, usable=True)
    if models:
        out.models = tuple(cards)
    media = Media(path.parent, root or path.parent)
    links = section_links(link, read.result.headings)
    for card, (key, pos) in zip(cards, card_keys(guide, cards), strict=True):
        fields = render(card, guide, shuffle=shuffle, media=media, link=links(card.loc.line))
        card_tags = note_tags(guide, card, tags)
        out.cards.append(
            RenderedCard(
                card.kind, fields, card_tags, fields_hash(fields, card_tags),
                candidate(card.kind, key, pos, fields), str(card.loc),
            )
        )  # fmt: skip
    out.media = dict(media.files)
    out.deps = dict(media.looked)
    if media.problems:
        out.diagnostics = tuple(sorted([*out.diagnostics, *media.problems],
                                       key=lambda d: (d.loc.line, d.loc.col)))  # fmt: skip
    return out


def section_links(
    link: str | None, headings: Sequence[tuple[int, str]]
) -> Callable[[int], str | None]:
    """For a line of the guide, ``link`` with ``{anchor}`` the anchor of the heading it stands
    under (GitHub's rules), or no anchor above the first heading; never a line number, which
    every edit above would change."""
    if link is None:
        return lambda line: None
    from bisect import bisect_right

    from guidedeck.slugs import github_anchors

    lines = [line for line, _ in headings]
    anchors = github_anchors(text for _, text in headings)

    def at(line: int) -> str:
        n = bisect_right(lines, line) - 1
        if n < 0:
            return link.replace("#{anchor}", "").replace("{anchor}", "")
        return link.replace("{anchor}", anchors[n])

    return at


def available_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the main process (which stops them) and die on SIGTERM, which is
    how the pool stops them: no traceback from each of them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


_Work = tuple[Path, tuple[CardKind, ...], tuple[str, ...], bool, bool, str, Path | None, str | None]
"""What preparing a guide depends on besides its bytes: path, kinds, tags, strict, shuffle,
dialect, root and link (the configuration that applies to it)."""


def _read(path: Path) -> bytes | None:
    try:
        return read_bounded(path, MAX_GUIDE_BYTES)
    except (OSError, ValueError):
        return None  # preparing reports why


def _options(job: _Work) -> tuple[object, ...]:
    return (tuple(k.value for k in job[1]), *job[2:])


def _prepare_job(job: _Work, keyed: bool) -> tuple[bytes, dict[str, str], str]:
    """The guide prepared (packed), the files it depends on, and (``keyed``: for the cache)
    the key of the bytes it was prepared from ("": none)."""
    data = _read(job[0])
    ready = prepare(*job, data=data)
    key = guide_key(job[0], data, _options(job))[1] if keyed and data is not None else ""
    return pack_prepared(ready), ready.deps, key


Reload = Callable[[], bytes]
"""Gives a guide taken from the cache again, packed, when the build writes it."""


class GuideChangedError(Exception):
    """A guide taken from the cache changed, and its cache entry vanished, during the build."""


def _reloader(cache: Cache, slot: str, key: str, job: _Work) -> Reload:
    def reload() -> bytes:
        packed = cache.get_packed(slot, key, check=False)
        if packed is not None:
            return packed
        # the cache was deleted during the build: the guide, if unchanged, is prepared again
        data = _read(job[0])
        if data is None or guide_key(job[0], data, _options(job))[1] != key:
            raise GuideChangedError(job[0])
        return pack_prepared(prepare(*job, data=data))

    return reload


def _prepared(
    packages: Sequence[PackageConfig], strict: bool, jobs: int, cache: Cache
) -> Generator[tuple[bytes, Reload | None], None, None]:
    """Every guide of ``packages`` prepared and packed, in order: from ``cache`` when it holds
    the guide as it is, else prepared (with ``jobs`` > 1 in worker processes) and stored there.
    A guide from the cache comes with a :data:`Reload`: the build need not hold it until it
    writes it (memory stays flat however many guides).

    At most two guides per worker are in flight, so unread results never pile up.
    """
    work: list[_Work] = [
        (path, tuple(c.kinds), tuple(c.tags), strict, c.shuffle, c.dialect, c.root, c.link_of(path))
        for c in packages
        for path in c.guides
    ]
    keys: list[tuple[str, str]] = []
    for job in work:
        data = _read(job[0]) if cache.root is not None else None
        keys.append(guide_key(job[0], data, _options(job)) if data is not None else ("", ""))
    stored = [bool(key) and cache.has(slot, key) for slot, key in keys]
    missed = [job for job, hit in zip(work, stored, strict=True) if not hit]
    with ExitStack() as stack:
        keyed = cache.root is not None
        results = _results(missed, jobs, keyed, stack)
        for job, (slot, key), hit in zip(work, keys, stored, strict=True):
            packed = cache.get_packed(slot, key) if hit else None
            if packed is not None:
                cache.hits += 1
                yield packed, _reloader(cache, slot, key, job)
                continue
            # a stored guide whose images changed is prepared here, in order
            packed, deps, made_from = next(results) if not hit else _prepare_job(job, keyed)
            cache.misses += 1
            if made_from:
                cache.put_packed(slot, made_from, packed, deps)
            yield packed, None


Stream = Generator[tuple[bytes, Reload | None], None, None]
"""Each guide prepared and packed, in order, and (from the cache) how to have it again."""


@contextmanager
def prepared_guides(
    packages: Sequence[PackageConfig], strict: bool, jobs: int, cache: Cache
) -> Iterator[Stream]:
    """:func:`_prepared` as a block: leaving it stops the worker pool, also when a build
    fails half-way."""
    stream = _prepared(packages, strict, jobs, cache)
    try:
        yield stream
    finally:
        stream.close()


def _results(
    work: Sequence[_Work], jobs: int, keyed: bool, stack: ExitStack
) -> Iterator[tuple[bytes, dict[str, str], str]]:
    """``work`` prepared in order: here, or by a pool of ``jobs`` workers closed by ``stack``."""
    if jobs <= 1 or len(work) <= 1:
        return (_prepare_job(job, keyed) for job in work)
    workers = min(jobs, len(work), available_cores())
    # loaded once here, before the workers fork, rather than once in each of them
    import guidedeck.parse
    import guidedeck.render  # noqa: F401

    context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else None)
    # the workers inherit every object loaded so far frozen: their collections never walk
    # (and so never copy the pages of) what they will not free; this process thaws at once
    gc.freeze()
    try:
        pool = stack.enter_context(context.Pool(workers, initializer=_worker_signals))
    finally:
        gc.unfreeze()

    def ordered() -> Iterator[tuple[bytes, dict[str, str], str]]:
        queue = iter(work)
        pending = deque(
            pool.apply_async(_prepare_job, (job, keyed)) for job in islice(queue, 2 * workers)
        )
        while pending:
            ready = pending.popleft().get()
            for job in islice(queue, 1):
                pending.append(pool.apply_async(_prepare_job, (job, keyed)))
            yield ready

    return ordered()
