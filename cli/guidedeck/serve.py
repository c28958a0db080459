"""``guidedeck serve``: the preview site on 127.0.0.1, rebuilt as the guides change.

A watcher (watchdog) notes every change to the guides, their images, ``decks.yaml`` and the
templates; after a short pause for the editor to finish saving, the site is rebuilt through the
same input rule and prepare stage as ``build`` (unchanged guides come from the cache, so one
edited guide costs one guide) and the open pages reload: each page holds a tag (a digest of its
HTML) and asks the server for every page's tag a few times a second (a short request, so no tab
holds a connection: a browser opens only 6 to one host, and an event stream per tab left a 7th
tab blank). Only pages whose tag changed reload. A watched folder removed and made again (a
branch checked out) is watched again.

Problems in the guides are shown on every page and in the terminal; a broken guide never stops
the server (it serves the cards that still build). ``--build`` also writes the decks and lock
files on each change. Ctrl-C stops it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from guidedeck.build import build
from guidedeck.cache import CACHE_DIR, Cache, fingerprint
from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.guides import GUIDE_SUFFIXES
from guidedeck.inputs import resolve
from guidedeck.lockfile import LOCK_SUFFIX
from guidedeck.media import IMAGE_SUFFIXES
from guidedeck.notetypes import design, stylesheet
from guidedeck.prepare import available_cores
from guidedeck.preview import TAG_MARK, Live, collect, deck_page, index_page, inline_images
from guidedeck.resources import data_dir

TAGS = "/__guidedeck/tags"
"""Every page's tag, as JSON: what the pages ask for to know when to reload."""
SETTLE = 0.05
"""Seconds without a further change before rebuilding: an editor saves in several steps."""
REQUEST_TIMEOUT = 5.0
"""Seconds a connection may stay silent while its request is read."""
MAX_CONNECTIONS = 32
"""Connections served at once (a thread each); more are closed as they come."""
_WATCHED_SUFFIXES = frozenset({*GUIDE_SUFFIXES, ".yaml", ".yml", *IMAGE_SUFFIXES})


@dataclass
class Site:
    """The pages being served and the problems behind them (replaced whole on each rebuild)."""

    pages: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    cards: int = 0


@dataclass
class Options:
    """What ``serve`` was asked for."""

    paths: tuple[Path, ...]
    out: Path
    strict: bool = False
    dialect: str | None = None
    cached: bool = True
    write_decks: bool = False
    jobs: int = field(default_factory=available_cores)


class Server:
    """Rebuilds the site on change and serves it; :meth:`run` until Ctrl-C."""

    def __init__(self, options: Options, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.site = Site()
        self.stopping = False
        self.changes: queue.Queue[Path] = queue.Queue()
        self.templates = data_dir("templates").resolve()
        self.port = 0
        """The port it listens on, once it does."""

    # --- rebuilding ---------------------------------------------------------------------------

    def rebuild(self, changed: Sequence[Path] = ()) -> Site:
        """Build the site anew (and the decks with ``--build``); never raises for a guide."""
        started = time.perf_counter()
        if any(self._is_template(p) for p in changed):
            for cached in (design, stylesheet, fingerprint):
                cached.cache_clear()
        try:
            site, note = self._site()
        except Exception as exc:  # a bug must not end the session: say it, keep the last site
            problem = Diagnostic.error(
                SourceLoc("guidedeck", 1), f"internal error: {exc!r}; please report it"
            )
            site, note = Site(dict(self.site.pages), dict(self.site.tags), [problem]), ""
        self._publish(site)
        for problem in site.problems:
            self.say(str(problem))
        seconds = time.perf_counter() - started
        self.say(f"rebuilt in {seconds:.2f} s: {len(site.pages) - 1} deck(s), {site.cards} "
                 f"card(s), {len(site.problems)} problem(s){note}")  # fmt: skip
        return site

    def _site(self) -> tuple[Site, str]:
        opts = self.options
        inputs = resolve(opts.paths, opts.dialect)
        with self._cache() as cache:
            note, problems = "", list(inputs.problems)
            reused: int | None = None  # guides from the cache: the build's, when it ran
            if opts.write_decks and inputs.packages:
                # built first: the preview then takes every guide from the cache, prepared once
                report = build(inputs.packages, opts.out, strict=opts.strict, roots=inputs.roots,
                               jobs=opts.jobs, cache=cache)  # fmt: skip
                problems += report.diagnostics
                written = sum(p.written and not p.unchanged for p in report.packages)
                note, reused = f"; {written} deck(s) written to {opts.out}", report.reused
            hits = cache.hits
            decks, found, images = collect(
                inputs.packages, opts.strict, cache, opts.jobs, decks_dir=opts.out
            )
        problems = list(dict.fromkeys([*problems, *found]))
        reused = cache.hits - hits if reused is None else reused
        if reused:
            note = f"; {reused} guide(s) from the cache" + note
        inline_images(decks, images)
        live = Live(tuple(problems))
        site = Site(problems=problems, cards=sum(len(d.cards) for d in decks))
        pages = {deck.page: deck_page(deck, live) for deck in decks}
        pages["index.html"] = index_page(decks, live)
        for name, text in pages.items():
            tag = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            site.pages[name] = text.replace(TAG_MARK, tag, 1).encode("utf-8")
            site.tags[name] = tag
        return site, note

    @contextlib.contextmanager
    def _cache(self) -> Iterator[Cache]:
        """The cache a rebuild prepares through: the decks' with ``--build`` (so the preview
        prepares nothing again), else the preview's own; with the cache off, one that lasts
        this rebuild only."""
        opts = self.options
        if opts.cached:
            yield Cache.under(opts.out if opts.write_decks else opts.out / "preview")
            return
        with tempfile.TemporaryDirectory(prefix="guidedeck-serve-") as scratch:
            yield Cache.under(Path(scratch))

    def _publish(self, site: Site) -> None:
        self.site = site  # replaced whole: a request reads the old site or the new one

    # --- watching -----------------------------------------------------------------------------

    def _is_template(self, path: Path) -> bool:
        return path.is_relative_to(self.templates)

    def relevant(self, path: Path) -> bool:
        """Whether a change to ``path`` can change the site (not a lock, a deck or a cache)."""
        name = path.name
        if self._is_template(path):
            return not name.startswith(".") and not name.endswith(".tmp")
        # what guidedeck writes is ignored by its name (decks, pages, the cache, locks,
        # temporary files), not by being in the output folder: --out . holds the guides too
        if CACHE_DIR in path.parts:
            return False
        if name.endswith((LOCK_SUFFIX, ".tmp")) or name.startswith(".#"):
            return False
        return path.suffix.lower() in _WATCHED_SUFFIXES

    def watched_folders(self) -> list[Path]:
        """The folders whose changes matter: each input (or its folder) and the templates."""
        roots = [Path(p) for p in self.options.paths] or [resolve(()).roots[0]]
        folders = {(r if r.is_dir() else r.parent).resolve() for r in roots}
        folders.add(self.templates)
        # a folder inside another is already watched (recursively)
        inner = {f for f in folders for o in folders if f != o and f.is_relative_to(o)}
        return sorted(folders - inner)

    # --- the loop -----------------------------------------------------------------------------

    def run(self, port: int, ready: Callable[[str], None]) -> None:
        """Serve on 127.0.0.1:``port`` until Ctrl-C (or :meth:`stop`)."""
        server = _Capped(("127.0.0.1", port), _handler(self))
        server.daemon_threads = True
        watcher = _Watcher(self)
        self._say_if_out_holds_guides()
        self.rebuild()
        watcher.start()
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        host, bound = server.server_address[:2]
        self.port = int(bound)
        ready(f"http://{host!s}:{bound}/")
        try:
            while not self.stopping:
                changed = self._next_changes() + watcher.rewatch()
                if changed:
                    self.rebuild(changed)
        finally:
            self.stopping = True
            watcher.stop()
            server.shutdown()
            server.server_close()

    def _say_if_out_holds_guides(self) -> None:
        out = self.options.out.resolve()
        inside = [p for p in self.options.paths if Path(p).resolve().is_relative_to(out)]
        if inside:
            self.say(f"note: the output folder {self.options.out} holds guides being served; "
                     "what guidedeck writes there (decks, pages, locks, its cache) is told apart "
                     "by its name")  # fmt: skip

    def _next_changes(self) -> list[Path]:
        """The changes of the next burst (empty after a second without any)."""
        try:
            first = self.changes.get(timeout=1.0)
        except queue.Empty:
            return []
        changed = [first]
        while True:
            try:
                changed.append(self.changes.get(timeout=SETTLE))
            except queue.Empty:
                return changed

    def stop(self) -> None:
        """End :meth:`run` (from another thread)."""
        self.stopping = True


class _Watcher:
    """The watched folders (watchdog), each watched again when it was removed and made anew:
    a watch ends with its folder, and ``git checkout`` may remove a folder and make it again."""

    def __init__(self, owner: Server) -> None:
        from watchdog.observers import Observer

        self.owner = owner
        self.observer = Observer()
        self.watches: dict[Path, tuple[Any, tuple[int, int] | None]] = {}

    def start(self) -> None:
        """Watch every folder whose changes matter."""
        for folder in self.owner.watched_folders():
            self._watch(folder)
        self.observer.start()

    def _watch(self, folder: Path) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler

        owner = self.owner

        class Changes(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                for raw in (event.src_path, getattr(event, "dest_path", "")):
                    if raw:
                        path = Path(raw if isinstance(raw, str) else raw.decode()).resolve()
                        if owner.relevant(path):
                            owner.changes.put(path)

        identity = _identity(folder)
        watch = self.observer.schedule(Changes(), str(folder), recursive=True) if identity else None
        self.watches[folder] = (watch, identity)

    def rewatch(self) -> list[Path]:
        """The folders removed or made again since last asked (each watched anew)."""
        moved = []
        for folder, (watch, identity) in list(self.watches.items()):
            now = _identity(folder)
            if now == identity:
                continue
            if watch is not None:
                with contextlib.suppress(KeyError, OSError):
                    self.observer.unschedule(watch)
            self._watch(folder)
            moved.append(folder)
        return moved

    def stop(self) -> None:
        """Stop watching."""
        self.observer.stop()
        self.observer.join(timeout=5)


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        info = folder.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


class _Capped(ThreadingHTTPServer):
    """An HTTP server of at most :data:`MAX_CONNECTIONS` connections at once (more are closed
    as they come: idle connections cost no thread beyond the cap), that says nothing when a
    client goes away mid-answer (a closed tab): that is no problem of the guides, and a
    traceback would bury the ones that are."""

    request_queue_size = 128  # the listen backlog: a burst of connections waits, not retries

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()  # no thread was started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _handler(owner: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "guidedeck"
        timeout = REQUEST_TIMEOUT  # a request half-sent and left holds no thread for long

        def do_GET(self) -> None:
            port = owner.port
            if self.headers.get("Host", "") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
                # another name for this address (DNS rebinding): a web page must not read it
                self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "this server is 127.0.0.1 only")
                return
            path = unquote(urlsplit(self.path).path)
            site = owner.site
            if path == TAGS:
                self._answer(json.dumps(site.tags).encode(), "application/json")
                return
            page = site.pages.get(path.lstrip("/") or "index.html")
            if page is None:
                self.send_error(HTTPStatus.NOT_FOUND, "no such page")
                return
            self._answer(page, "text/html; charset=utf-8")

        def _answer(self, body: bytes, content_type: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # every request on the terminal would bury the problems

    return Handler


__all__ = ["MAX_CONNECTIONS", "TAGS", "Options", "Server", "Site"]
