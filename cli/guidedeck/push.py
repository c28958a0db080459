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

from guidedeck.backup import Backup, read_only_uri
from guidedeck.cache import Cache
from guidedeck.cards import KINDS
from guidedeck.commit import StagedBuild, staged_build
from guidedeck.config import PackageConfig
from guidedeck.entry import Terminated
from guidedeck.identity import anki_search
from guidedeck.memory import DeckNote, DeckReadError, read_deck
from guidedeck.plan import BuildOptions
from guidedeck.report import BuildReport
from guidedeck.transaction import signals_held

REMOVED_TAG = "guidedeck::removed"
POLICIES = ("keep", "tag", "suspend", "delete")
_DEFAULT_DECK = 1


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
        f"{path} is in use (Anki or another program has it open): close Anki and push again; "
        "nothing was changed"
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
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _in_use(path) from None
            problem = str(exc)
        except sqlite3.DatabaseError as exc:
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
    moves: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    """Target deck -> card ids to move there."""
    removed: dict[int, str] = field(default_factory=dict)
    """Note id -> ``ID`` field of a note whose item left its guide."""
    removed_cards: list[int] = field(default_factory=list)
    decks_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Package file name -> the decks its notes go to."""

    @property
    def changes(self) -> bool:
        """Whether carrying the plan out changes the collection at all (policy aside)."""
        lines = self.decks.values()
        return any(d.added or d.updated for d in lines) or any(self.moves.values())


@dataclass
class PushReport:
    """The outcome of a push."""

    collection: Path
    chosen: str
    policy: str
    plan: Plan = field(default_factory=Plan)
    build: BuildReport | None = None
    backup: Path | None = None
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


def _chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _col_notes(col: Any, guids: Sequence[str]) -> dict[str, tuple[int, int, str, int]]:
    """guid -> (note id, mtime, fields, notetype id) of the collection's notes."""
    found = {}
    for chunk in _chunks(list(guids)):
        marks = ",".join("?" * len(chunk))
        for nid, guid, mod, flds, mid in col.db.all(
            f"select id, guid, mod, flds, mid from notes where guid in ({marks})", *chunk
        ):
            found[guid] = (nid, mod, flds, mid)
    return found


def make_plan(col: Any, staged: StagedBuild, out_dir: Path) -> Plan:
    """Compare the staged decks with the collection."""
    plan = Plan()
    ours_before = _deck_names_built(out_dir)
    for pkg, deck_file in staged.decks():
        notes = read_deck(deck_file)
        plan.packages.append((deck_file, notes))
        plan.decks_of[pkg.output.name].update(n.deck for n in notes)
        ours_before.update(n.deck for n in notes)
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    for _file, notes in plan.packages:
        _plan_notes(col, plan, notes, names, ours_before)
    _plan_removed(col, plan, staged.plan.report, names)
    return plan


def _plan_notes(
    col: Any, plan: Plan, notes: list[DeckNote], names: dict[int, str], ours: set[str]
) -> None:
    """Added, updated or unchanged, and the cards to move to their package's deck."""
    known = _col_notes(col, [n.guid for n in notes])
    for note in notes:
        line = plan.decks[note.deck]
        held = known.get(note.guid)
        if held is None:
            line.added += 1
            continue
        nid, mod, flds, _mid = held
        fields = "\x1f".join(note.fields.values())
        if note.mtime > mod and fields != flds:
            line.updated += 1
        else:
            line.unchanged += 1
        for cid, did, odid in col.db.all("select id, did, odid from cards where nid = ?", nid):
            where = names.get(did, "")
            # cards in a filtered deck go home by themselves; cards the user filed in a deck of
            # their own stay there: only cards where guidedeck put them follow the package
            if odid == 0 and where != note.deck and where in ours:
                plan.moves[note.deck].append(cid)
                line.moved += 1


def _plan_removed(col: Any, plan: Plan, report: BuildReport, names: dict[int, str]) -> None:
    """The notes whose items left the built guides (:mod:`guidedeck.removal`: now or before;
    never notes of a kind no longer built), as the collection holds them."""
    gone = sorted(
        {e.guid for pkg in report.packages for g in pkg.guides
         for e in (*g.removed, *g.removed_before)}
    )  # fmt: skip
    for nid, _mod, flds, mid in _col_notes(col, gone).values():
        if KINDS.by_model(mid) is None:
            continue
        plan.removed[nid] = flds.split("\x1f", 1)[0]
        for cid, did in col.db.all("select id, did from cards where nid = ?", nid):
            plan.removed_cards.append(cid)
            plan.decks[names.get(did, "")].removed += 1


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


def import_package(col: Any, package: Path) -> Any:
    """Anki's File > Import of an ``.apkg``, with its default options."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition as Condition

    options = ImportAnkiPackageOptions(
        merge_notetypes=False,
        update_notes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        update_notetypes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        with_scheduling=False,
        with_deck_configs=False,
    )
    request = ImportAnkiPackageRequest(package_path=str(package), options=options)
    return col.import_anki_package(request).log


def apply_plan(col: Any, staged: StagedBuild, policy: str, result: PushReport) -> None:
    """Import, move cards to their decks, drop decks left empty, act on the removed notes, then
    commit the build's files. Ctrl-C or SIGTERM waits for the package being imported, and for
    the last steps; between packages it stops the push with :class:`PushStoppedError`."""
    plan = result.plan
    try:
        _import_all(col, plan, result)
        with signals_held():
            _move_cards(col, plan, result)
            nids = sorted(plan.removed)
            if nids and policy != "keep":
                result.acted = _POLICIES[policy](col, plan, nids)
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
    return (
        f"push stopped ({how}) part-way: the collection now holds the notes of "
        f"{', '.join(sorted(result.imported))}; not yet of {', '.join(left)}. No deck or lock "
        f"file was changed. Push again to finish it, or restore the backup {result.backup} "
        "(Anki > File > Switch Profile > Open Backup) to undo it."
    )


def _import_all(col: Any, plan: Plan, result: PushReport) -> None:
    """Import every package, each whole; the importer's own account replaces the prediction
    (it is what the collection now holds)."""
    for line in plan.decks.values():
        line.added = line.updated = line.unchanged = 0
    for staged, notes in plan.packages:
        with signals_held():  # a package is in, or not: never part of one
            log = import_package(col, staged)
            result.imported.update(n.deck for n in notes)
        deck_of = {n.guid: n.deck for n in notes}
        for part, attr in (("new", "added"), ("updated", "updated"), ("duplicate", "unchanged")):
            nids = [entry.id.nid for entry in getattr(log, part)]
            for guid in col.db.list(f"select guid from notes where id in {_ids(nids)}"):
                line = plan.decks[deck_of.get(guid, "")]
                setattr(line, attr, getattr(line, attr) + 1)
        if log.conflicting or log.missing_notetype or log.empty_first_field:
            raise PushError(
                f"Anki did not take every note of this push ({len(log.conflicting)} "
                f"conflicting); to undo what it took, restore {result.backup}"
            )


def _move_cards(col: Any, plan: Plan, result: PushReport) -> None:
    """Move cards to their package's deck; remove guidedeck's decks the moves left empty."""
    emptied: set[int] = set()
    for deck, cards in plan.moves.items():
        target = col.decks.id_for_name(deck)
        emptied.update(col.db.list(f"select distinct did from cards where id in {_ids(cards)}"))
        col.set_deck(cards, target)
    for did in sorted(emptied):
        deck = col.decks.get(did, default=False)
        if deck is None or did == _DEFAULT_DECK or col.decks.card_count(did, True):
            continue
        if list(col.decks.children(did)):
            continue
        result.emptied.append(deck["name"])
        col.decks.remove([did])


def _tag(col: Any, _plan: Plan, nids: list[int]) -> int:
    todo = [n for n in nids if REMOVED_TAG not in col.get_note(n).tags]
    if todo:
        col.tags.bulk_add(todo, REMOVED_TAG)
    return len(todo)


def _suspend(col: Any, plan: Plan, _nids: list[int]) -> int:
    cards = col.db.list(
        f"select id from cards where queue != -1 and id in {_ids(plan.removed_cards)}"
    )
    if cards:
        col.sched.suspend_cards(cards)
    return len(cards)


def _delete(col: Any, _plan: Plan, nids: list[int]) -> int:
    col.remove_notes(nids)
    return len(nids)


_POLICIES: dict[str, Callable[[Any, Plan, list[int]], int]] = {
    "tag": _tag,
    "suspend": _suspend,
    "delete": _delete,
}
"""What each ``--removed`` policy but ``keep`` does to the removed notes; how many it acted on."""


def _ids(values: Iterable[int]) -> str:
    return "(" + ",".join(str(int(v)) for v in values) + ")"


def push(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    *,
    roots: Sequence[Path],
    collection: Path,
    chosen: str,
    policy: str = "keep",
    dry_run: bool = False,
    strict: bool = False,
    jobs: int = 1,
    confirm: Callable[[Plan], bool] = lambda _plan: False,
) -> PushReport:
    """Build ``packages`` and bring them into ``collection``; see the module's docstring."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    result = PushReport(collection, chosen, policy)
    with ExitStack() as stack:
        if dry_run:  # planned against a copy: the engine may upgrade a collection it opens
            target, aside = scratch_copy(collection, stack), None
        else:
            target, aside = collection, _aside(collection)
            stack.callback(aside.discard)  # kept only once the push changes something
        col = open_collection(target)
        stack.callback(col.close)
        _push(col, packages, out_dir, roots, result, aside, dry_run, strict, jobs, confirm)
    return result


def _aside(collection: Path) -> Backup:
    """The backup, before Anki's engine opens the collection (refused: nothing changed)."""
    _probe(collection)
    try:
        return Backup(collection)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _in_use(collection) from None
        raise PushError(f"{collection}: cannot back it up ({exc}); nothing was changed") from None
    except (OSError, sqlite3.Error) as exc:
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


def _push(
    col: Any, packages: Sequence[PackageConfig], out_dir: Path, roots: Sequence[Path],
    result: PushReport, aside: Backup | None, dry_run: bool, strict: bool, jobs: int,
    confirm: Callable[[Plan], bool],
) -> None:  # fmt: skip
    """Stage a build, plan against the open collection, apply, commit (see :func:`push`)."""
    options = BuildOptions(out_dir, strict, False, int(time.time()), jobs, tuple(roots))
    cache = Cache.under(out_dir, writable=not dry_run)
    with staged_build(packages, options, cache) as staged:
        result.build = staged.plan.report
        if not staged.complete:
            return  # a package cannot be built: the collection is left alone
        result.plan = make_plan(col, staged, out_dir)
        planned = _presets(col, staged, result.plan, dry=True)
        if dry_run or aside is None:
            result.presets = [said for _changes, said in planned]
            return
        if result.policy == "delete" and result.plan.removed and not confirm(result.plan):
            result.declined = True
            return
        acts = result.policy != "keep" and bool(result.plan.removed)
        if result.plan.changes or acts or any(changes for changes, _said in planned):
            result.backup = aside.keep()
            apply_plan(col, staged, result.policy, result)
        else:
            with signals_held():
                result.applied = True
                staged.commit()
        with signals_held():
            result.presets = [said for _c, said in _presets(col, staged, result.plan, dry=False)]


def _presets(col: Any, staged: StagedBuild, plan: Plan, dry: bool) -> list[tuple[bool, str]]:
    """Each package's options preset (``preset:`` in decks.yaml) brought into the collection,
    and given to the package's decks: whether it changes anything, and what happened."""
    from guidedeck.presets import apply_preset

    out = []
    for config in staged.plan.packages:
        if config.preset is not None:
            name = f"guidedeck: {Path(config.output).stem}"
            out.append(apply_preset(col, name, config.preset, plan.decks_of[config.output], dry))
    return out


def removed_search(plan: Plan) -> str:
    """An Anki search for the removed notes (by their ``ID`` field)."""
    return anki_search(sorted(plan.removed.values()))


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
    "PushReport",
    "PushStoppedError",
    "anki_base",
    "find_collection",
    "open_collection",
    "push",
]
