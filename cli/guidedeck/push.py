"""``guidedeck push``: build, then import into the user's Anki collection with Anki's own engine.

The import is the one Anki's File > Import runs (``import_anki_package`` with its defaults), so a
push and a manual import can never disagree on identity, mtimes or notetypes. What that import
does not do, push does itself: it moves existing cards to their package's deck (keeping their
reviews) and deals with the notes whose items left the guide.

Order matters for "nothing lost": the collection is checked read-only first (damaged, from a
newer Anki, or held by another process: refused, and not one file has changed) and copied aside
as a backup before Anki's engine opens it (the engine upgrades an older schema as it opens);
then stage a build (:func:`guidedeck.commit.staged_build`) → plan against the collection →
apply (the backup kept first) → commit the build's decks and lock files, only once the
collection took the import. Leaving early (a dry run, a refused deletion, an error) leaves every
file as it was. A push stopped part-way (Ctrl-C, SIGTERM) says which decks are in the collection
and which backup undoes it; each package's import is whole (the signal waits for it).
"""

from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guidedeck.anki_connect import (
    OFF,
    AnkiConnect,
    ConnectError,
    check_url,
    default_url,
    is_this_machine,
    reach,
)
from guidedeck.backup import Backup, read_only_uri
from guidedeck.cache import Cache
from guidedeck.commit import StagedBuild, staged_build
from guidedeck.config import PackageConfig
from guidedeck.connect_target import ConnectTarget
from guidedeck.entry import Terminated
from guidedeck.identity import anki_search
from guidedeck.memory import DeckNote, DeckReadError, read_deck
from guidedeck.plan import BuildOptions
from guidedeck.report import BuildReport
from guidedeck.targets import EngineTarget, HeldNote, Target
from guidedeck.transaction import signals_held

REMOVED_TAG = "guidedeck::removed"
POLICIES = ("keep", "tag", "suspend", "delete")


class PushError(Exception):
    """Push cannot go on; nothing in the collection was changed."""


class PushStoppedError(Exception):
    """Ctrl-C or SIGTERM while the collection was being changed: what it holds now."""


# --- finding the collection ---------------------------------------------------------------------


def anki_base() -> Path:
    """Anki's data folder: ``$ANKI_BASE`` (as Anki itself reads it), else the platform's."""
    if os.environ.get("ANKI_BASE"):
        return Path(os.environ["ANKI_BASE"])
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "Anki2"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Anki2"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "Anki2"


class _SafeUnpickler(pickle.Unpickler):
    """Anki's profile list is pickled; only plain values may come out of it."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not a plain value")


def _last_profile(base: Path) -> str | None:
    """The profile Anki opened last, from its ``prefs21.db`` (None when it cannot be told)."""
    try:
        conn = sqlite3.connect(f"file:{base / 'prefs21.db'}?mode=ro", uri=True)
        try:
            row = conn.execute("select cast(data as blob) from profiles where name = '_global'")
            data = row.fetchone()
        finally:
            conn.close()
        if data is None:
            return None
        import io

        value = _SafeUnpickler(io.BytesIO(data[0])).load()
    except (sqlite3.Error, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None
    name = value.get("last_loaded_profile_name") if isinstance(value, dict) else None
    return name if isinstance(name, str) else None


def find_collection(collection: Path | None, profile: str | None) -> tuple[Path, str]:
    """The collection file to push into, and a sentence saying how it was chosen."""
    if collection is not None:
        if not collection.is_file():
            raise PushError(f"{collection}: no such collection file")
        return collection, f"collection {collection}"
    base = anki_base()
    profiles = sorted(
        p.name for p in base.iterdir() if (p / "collection.anki2").is_file()
    ) if base.is_dir() else []  # fmt: skip
    if not profiles:
        raise PushError(
            f"no Anki profile found in {base}; give --collection FILE (or set ANKI_BASE)"
        )
    if profile is not None:
        if profile not in profiles:
            raise PushError(f"no profile {profile!r} in {base} (there are: {', '.join(profiles)})")
        return base / profile / "collection.anki2", f"profile {profile!r} in {base}"
    if len(profiles) == 1:
        return base / profiles[0] / "collection.anki2", f"profile {profiles[0]!r} in {base}"
    last = _last_profile(base)
    if last in profiles:
        return base / last / "collection.anki2", f"profile {last!r} (last used) in {base}"
    raise PushError(
        f"{len(profiles)} Anki profiles in {base} ({', '.join(profiles)}); choose one with "
        "--profile NAME"
    )


ADDON = "AnkiConnect (add-on code 2055492159)"


@dataclass(frozen=True, slots=True)
class Way:
    """How the collection is reached: its file (Anki closed), or AnkiConnect (Anki running)."""

    chosen: str
    collection: Path | None = None
    client: AnkiConnect | None = None


def _file(collection: Path | None, profile: str | None) -> Way:
    path, chosen = find_collection(collection, profile)
    return Way(chosen, collection=path)


def choose_way(collection: Path | None, profile: str | None, connect: str | None) -> Way:
    """The way in: ``--collection`` or ``--profile`` name a file; ``--anki-connect URL`` the
    add-on, which must answer; with neither, the add-on when it answers at the default URL,
    else the profile's file. One message says why when none is possible."""
    if collection is not None or profile is not None:
        return _file(collection, profile)
    explicit = connect is not None and connect.lower() != OFF
    url = connect if explicit else (None if connect is not None else default_url())
    if url is not None:
        try:
            client = reach(check_url(url))
        except ConnectError as exc:
            raise PushError(f"{exc}; nothing was changed") from None
        if client is not None:
            return Way(f"Anki (AnkiConnect at {url})", client=client)
        if explicit:
            raise PushError(
                f"AnkiConnect does not answer at {url}: start Anki with {ADDON}, or leave "
                "--anki-connect out to use the collection file while Anki is closed"
            )
    try:
        return _file(None, None)
    except PushError as exc:
        if url is None:
            raise
        raise PushError(
            f"{exc}. Nor does AnkiConnect answer at {url}: start Anki with {ADDON}"
        ) from None


def open_collection(path: Path) -> Any:
    """The collection, opened by this process alone (Anki refuses one another process holds)."""
    try:
        from anki.collection import Collection
        from anki.errors import DBError
    except ImportError:
        raise PushError(
            "push needs Anki's engine: pip install 'guidedeck[anki]'"
        ) from None  # fmt: skip
    _probe(path)
    try:
        return Collection(str(path))
    except DBError as exc:
        if "FileTooNew" in str(exc):
            raise PushError(
                f"{path} was made by a newer Anki than the engine guidedeck uses (anki "
                f"{_engine_version()}): upgrade it (pip install -U anki) and push again; nothing "
                "was changed"
            ) from None
        raise _in_use(path) from None


def _engine_version() -> str:
    from importlib.metadata import version

    return version("anki")


def _in_use(path: Path) -> PushError:
    return PushError(
        f"{path} is in use (Anki or another program has it open): close Anki and push again, "
        f"or add {ADDON} to Anki to push while it runs; nothing was changed"
    )


def _busy(exc: BaseException) -> bool:
    """Whether SQLite refused because another process holds the file."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


def _unicase(a: str, b: str) -> int:
    return (a.casefold() > b.casefold()) - (a.casefold() < b.casefold())


def _probe(path: Path) -> None:
    """Tell a damaged or truncated collection from one that is open elsewhere (read-only; the
    file is not changed)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        raise PushError(f"{path}: cannot read ({exc.strerror})") from None
    problem = "it is not an SQLite database" if header != b"SQLite format 3\x00" else ""
    if not problem:
        try:
            conn = sqlite3.connect(read_only_uri(path), uri=True, timeout=0.5)
            # Anki's indexes sort with a collation of its own: checking them needs one
            conn.create_collation("unicase", _unicase)
            try:
                found = conn.execute("pragma quick_check").fetchone()
            finally:
                conn.close()
            if found is not None and found[0] != "ok":
                problem = f"SQLite finds it damaged ({found[0]})"
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise _in_use(path) from None
            problem = str(exc)
    if problem:
        raise PushError(
            f"{path} is damaged or not an Anki collection ({problem}); nothing was changed. "
            f"Anki keeps backups in {path.parent / 'backups'}"
        )


# --- the plan -----------------------------------------------------------------------------------


@dataclass
class DeckLine:
    """One row of the summary: what happens in one deck."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0


@dataclass
class Plan:
    """What a push will do (or did) to the collection."""

    decks: dict[str, DeckLine] = field(default_factory=lambda: defaultdict(DeckLine))
    packages: list[tuple[Path, list[DeckNote]]] = field(default_factory=list)
    held: dict[str, HeldNote] = field(default_factory=dict)
    """The packages' notes (GUID ->) as the collection held them before the push."""
    moves: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    """Target deck -> card ids to move there."""
    moved_from: set[str] = field(default_factory=set)
    removed: dict[int, HeldNote] = field(default_factory=dict)
    """Note id -> a note whose item left its guide, as the collection holds it."""
    decks_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Package file name -> the decks its notes go to."""

    @property
    def changes(self) -> bool:
        """Whether carrying the plan out changes the collection at all (policy aside)."""
        lines = self.decks.values()
        return any(d.added or d.updated for d in lines) or any(self.moves.values())

    def wanted(self) -> dict[str, str]:
        """GUID -> ``ID`` field of every note of the packages."""
        return {n.guid: n.fields["ID"] for _f, notes in self.packages for n in notes}


@dataclass
class PushReport:
    """The outcome of a push."""

    collection: Path | None
    chosen: str
    policy: str
    plan: Plan = field(default_factory=Plan)
    build: BuildReport | None = None
    backup: Path | None = None
    """The whole collection as it was (the file path)."""
    exported: list[Path] = field(default_factory=list)
    """Decks holding removed notes, with their reviews, exported before a deletion
    (AnkiConnect, which cannot back up the whole collection)."""
    applied: bool = False
    declined: bool = False
    emptied: list[str] = field(default_factory=list)
    """Decks removed because push moved their last card out."""
    acted: int = 0
    """Removed notes the policy acted on (tagged, suspended or deleted)."""
    imported: set[str] = field(default_factory=set)
    """Decks whose package is in the collection (all of them once the push is done)."""
    presets: list[str] = field(default_factory=list)
    """What became of each package's options preset (decks.yaml's ``preset:``)."""


def make_plan(target: Target, staged: StagedBuild, out_dir: Path) -> Plan:
    """Compare the staged decks with the collection."""
    plan = Plan()
    ours_before = _deck_names_built(out_dir)
    for pkg, deck_file in staged.decks():
        notes = read_deck(deck_file)
        plan.packages.append((deck_file, notes))
        plan.decks_of[pkg.output.name].update(n.deck for n in notes)
        ours_before.update(n.deck for n in notes)
    gone = _gone(staged.plan.report)
    held = target.notes({**gone, **plan.wanted()})
    plan.held = {g: h for g, h in held.items() if g not in gone}
    for _file, notes in plan.packages:
        _plan_notes(plan, notes, ours_before)
    _plan_removed(plan, [h for g, h in held.items() if g in gone])
    return plan


def _plan_notes(plan: Plan, notes: list[DeckNote], ours: set[str]) -> None:
    """Added, updated or unchanged (Anki's rule: newer and different), and the cards to move
    to their package's deck."""
    for note in notes:
        line = plan.decks[note.deck]
        held = plan.held.get(note.guid)
        if held is None:
            line.added += 1
            continue
        newer = held.mtime is None or note.mtime > held.mtime
        if newer and tuple(note.fields.values()) != held.fields:
            line.updated += 1
        else:
            line.unchanged += 1
        for card in held.cards:
            # cards in a filtered deck go home by themselves; cards the user filed in a deck of
            # their own stay there: only cards where guidedeck put them follow the package
            if not card.filtered and card.deck != note.deck and card.deck in ours:
                plan.moves[note.deck].append(card.cid)
                plan.moved_from.add(card.deck)
                line.moved += 1


def _gone(report: BuildReport) -> dict[str, str]:
    """GUID -> ``ID`` field of the notes whose items left the built guides
    (:mod:`guidedeck.removal`: now or before; never notes of a kind no longer built)."""
    return {
        e.guid: e.id for pkg in report.packages for g in pkg.guides
        for e in (*g.removed, *g.removed_before)
    }  # fmt: skip


def _plan_removed(plan: Plan, held: Iterable[HeldNote]) -> None:
    """The removed notes the collection holds, still of a guidedeck notetype."""
    for note in sorted(held, key=lambda h: h.nid):
        if note.kind is None:
            continue
        plan.removed[note.nid] = note
        for card in note.cards:
            plan.decks[card.deck].removed += 1


def _deck_names_built(out_dir: Path) -> set[str]:
    """Deck names of guidedeck's notes in the decks last built into ``out_dir``."""
    names: set[str] = set()
    for deck_file in sorted(out_dir.glob("*.apkg")) if out_dir.is_dir() else []:
        try:
            names.update(n.deck for n in read_deck(deck_file))
        except DeckReadError:
            continue
    return names


# --- carrying it out ----------------------------------------------------------------------------


def apply_plan(target: Target, staged: StagedBuild, policy: str, result: PushReport) -> None:
    """Import, move cards to their decks, drop decks left empty, act on the removed notes, then
    commit the build's files. Ctrl-C or SIGTERM waits for the package being imported, and for
    the last steps; between packages it stops the push with :class:`PushStoppedError`."""
    plan = result.plan
    try:
        _import_all(target, plan, result)
        with signals_held():
            for deck, cards in plan.moves.items():
                target.move(cards, deck)
            result.emptied = target.remove_empty(plan.moved_from)
            if plan.removed and policy != "keep":
                result.acted = _POLICIES[policy](target, list(plan.removed.values()))
            result.applied = True
            staged.commit()
    except (KeyboardInterrupt, Terminated) as exc:
        raise PushStoppedError(_stopped(plan, result, exc)) from None


def _stopped(plan: Plan, result: PushReport, signal: BaseException) -> str:
    """What a push stopped between two packages left, and how to finish or undo it."""
    how = "Ctrl-C" if isinstance(signal, KeyboardInterrupt) else "SIGTERM"
    if not result.imported:
        return f"push stopped ({how}) before it changed the collection; nothing was changed"
    left = sorted(set(plan.decks) - result.imported)
    undo = (
        f"restore the backup {result.backup} (Anki > File > Switch Profile > Open Backup) "
        "to undo it"
        if result.backup
        else "use Anki's Browse to undo it"
    )
    return (
        f"push stopped ({how}) part-way: the collection now holds the notes of "
        f"{', '.join(sorted(result.imported))}; not yet of {', '.join(left)}. No deck or lock "
        f"file was changed. Push again to finish it, or {undo}."
    )


def _import_all(target: Target, plan: Plan, result: PushReport) -> None:
    """Import every package, each whole; then count what the collection now holds (it is what
    Anki did, not what was predicted)."""
    refused = 0
    for staged, notes in plan.packages:
        with signals_held():  # a package is in, or not: never part of one
            refused += target.import_package(staged)
            result.imported.update(n.deck for n in notes)
    after = target.notes(plan.wanted())
    for line in plan.decks.values():
        line.added = line.updated = line.unchanged = 0
    for _staged, notes in plan.packages:
        for note in notes:
            now, before = after.get(note.guid), plan.held.get(note.guid)
            if now is None:
                refused += 1
                continue
            line = plan.decks[note.deck]
            if before is None:
                line.added += 1
            elif now.fields != before.fields:
                line.updated += 1
            else:
                line.unchanged += 1
    if refused:
        undo = f"restore {result.backup}" if result.backup else "see Anki's Browse"
        raise PushError(
            f"Anki did not take every note of this push ({refused} refused, e.g. a note of "
            f"the same GUID and another notetype); to undo what it took, {undo}"
        )


def _tag(target: Target, notes: list[HeldNote]) -> int:
    todo = [n.nid for n in notes if REMOVED_TAG.casefold() not in map(str.casefold, n.tags)]
    if todo:
        target.tag(todo, REMOVED_TAG)
    return len(todo)


def _suspend(target: Target, notes: list[HeldNote]) -> int:
    cards = [c.cid for n in notes for c in n.cards if not c.suspended]
    if cards:
        target.suspend(cards)
    return len(cards)


def _delete(target: Target, notes: list[HeldNote]) -> int:
    target.delete([n.nid for n in notes])
    return len(notes)


_POLICIES: dict[str, Callable[[Target, list[HeldNote]], int]] = {
    "tag": _tag,
    "suspend": _suspend,
    "delete": _delete,
}
"""What each ``--removed`` policy but ``keep`` does to the removed notes; how many it acted on."""


@dataclass(frozen=True)
class PushJob:
    """What to push and how, whichever way the collection is reached."""

    packages: Sequence[PackageConfig]
    out_dir: Path
    roots: Sequence[Path]
    policy: str = "keep"
    dry_run: bool = False
    strict: bool = False
    jobs: int = 1
    confirm: Callable[[Plan], bool] = lambda _plan: False

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r}")

    def options(self) -> BuildOptions:
        """The build push stages."""
        return BuildOptions(
            self.out_dir, self.strict, False, int(time.time()), self.jobs, tuple(self.roots)
        )


def push(job: PushJob, way: Way) -> PushReport:
    """Build the job's packages and bring them into the collection ``way`` reaches: the file
    (Anki closed; see the module's docstring) or the running Anki through AnkiConnect."""
    if way.client is not None:
        return _push_connect(job, way.client)
    assert way.collection is not None
    return _push_file(job, way.collection, way.chosen)


def _push_file(job: PushJob, collection: Path, chosen: str) -> PushReport:
    result = PushReport(collection, chosen, job.policy)
    with ExitStack() as stack:
        if job.dry_run:  # planned against a copy: the engine may upgrade a collection it opens
            target, aside = scratch_copy(collection, stack), None
        else:
            target, aside = collection, _aside(collection)
            stack.callback(aside.discard)  # kept only once the push changes something
        col = open_collection(target)
        stack.callback(col.close)

        def keep(_plan: Plan) -> None:
            if aside is not None:
                result.backup = aside.keep()

        _push(EngineTarget(col), job, result, keep)
    return result


def _push_connect(job: PushJob, client: AnkiConnect) -> PushReport:
    """The same plan, policies, moves and presets through AnkiConnect. The add-on cannot back
    the collection up, so before a deletion the decks holding the removed notes are exported
    with their reviews, beside Anki's own backups."""
    if not is_this_machine(client.url):
        raise PushError(
            f"--anki-connect {client.url} is another machine: Anki reads the package from its "
            "own disk, so push works with an Anki on this machine only; nothing was changed"
        )
    result = PushReport(None, f"Anki (AnkiConnect at {client.url})", job.policy)
    target = ConnectTarget(client)

    def keep(plan: Plan) -> None:
        if job.policy == "delete" and plan.removed:
            result.exported = _export_removed(target, client, plan)

    try:
        _push(target, job, result, keep)
    except ConnectError as exc:
        done = "" if not result.imported else (
            f" The collection holds the notes of {', '.join(sorted(result.imported))} already;"
            " push again once Anki answers.")  # fmt: skip
        raise PushError(f"{exc}.{done} No deck or lock file was changed.") from None
    return result


def _export_removed(target: ConnectTarget, client: AnkiConnect, plan: Plan) -> list[Path]:
    """Each deck holding a removed note, exported with its reviews into the profile's backups
    folder (Anki writes it): importing one with its scheduling brings deleted notes back."""
    media = client.call("getMediaDirPath")
    if not isinstance(media, str):
        raise ConnectError("getMediaDirPath: AnkiConnect did not say where the profile is")
    folder = Path(media).parent / "backups"
    folder.mkdir(exist_ok=True)  # Anki makes it at its first backup (push runs on its machine)
    stamp = time.strftime("%Y-%m-%d-%H.%M.%S")
    decks = sorted({c.deck for n in plan.removed.values() for c in n.cards})
    out = []
    for number, deck in enumerate(decks, 1):
        path = folder / f"guidedeck-removed-{stamp}-{number}.apkg"
        target.export(deck, path)
        out.append(path)
    return out


def _aside(collection: Path) -> Backup:
    """The backup, before Anki's engine opens the collection (refused: nothing changed)."""
    _probe(collection)
    try:
        return Backup(collection)
    except (OSError, sqlite3.Error) as exc:
        if _busy(exc):
            raise _in_use(collection) from None
        raise PushError(f"{collection}: cannot back it up ({exc}); nothing was changed") from None


def scratch_copy(collection: Path, stack: ExitStack) -> Path:
    """A copy of ``collection`` (with its write-ahead log) in a temporary folder."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="guidedeck-dry-")))
    copy = folder / collection.name
    shutil.copyfile(collection, copy)
    wal = collection.with_name(collection.name + "-wal")
    if wal.is_file():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    return copy


def _push(target: Target, job: PushJob, result: PushReport, keep: Callable[[Plan], None]) -> None:
    """Stage a build, plan against the collection, keep a way back (``keep``), apply, commit."""
    options = job.options()
    cache = Cache.under(options.out_dir, writable=not job.dry_run)
    with staged_build(job.packages, options, cache) as staged:
        result.build = staged.plan.report
        if not staged.complete:
            return  # a package cannot be built: the collection is left alone
        result.plan = make_plan(target, staged, options.out_dir)
        planned = _presets(target, staged, result.plan, dry=True)
        if job.dry_run:
            result.presets = [said for _changes, said in planned]
            return
        if job.policy == "delete" and result.plan.removed and not job.confirm(result.plan):
            result.declined = True
            return
        acts = job.policy != "keep" and bool(result.plan.removed)
        if result.plan.changes or acts or any(changes for changes, _said in planned):
            keep(result.plan)
            apply_plan(target, staged, job.policy, result)
        else:
            with signals_held():
                result.applied = True
                staged.commit()
        with signals_held():
            result.presets = [said for _c, said in _presets(target, staged, result.plan, False)]


def _presets(target: Target, staged: StagedBuild, plan: Plan, dry: bool) -> list[tuple[bool, str]]:
    """Each package's options preset (``preset:`` in decks.yaml) brought into the collection,
    and given to the package's decks: whether it changes anything, and what happened."""
    from guidedeck.presets import apply_preset

    out = []
    for config in staged.plan.packages:
        if config.preset is not None:
            name = f"guidedeck: {Path(config.output).stem}"
            out.append(apply_preset(target, name, config.preset, plan.decks_of[config.output], dry))
    return out


def removed_search(plan: Plan) -> str:
    """An Anki search for the removed notes (by their ``ID`` field)."""
    return anki_search(sorted(n.id_field for n in plan.removed.values()))


def counts(plan: Plan) -> Counter[str]:
    """Totals over every deck."""
    total: Counter[str] = Counter()
    for line in plan.decks.values():
        total.update(
            added=line.added, updated=line.updated, unchanged=line.unchanged,
            moved=line.moved, removed=line.removed,
        )  # fmt: skip
    return total


__all__ = [
    "POLICIES",
    "REMOVED_TAG",
    "Plan",
    "PushError",
    "PushJob",
    "PushReport",
    "PushStoppedError",
    "Way",
    "anki_base",
    "choose_way",
    "find_collection",
    "open_collection",
    "push",
]
