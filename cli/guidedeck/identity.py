"""Who a note is, across every rebuild: the lock file and the matching of old notes to new cards.

Anki finds the note to update by GUID, applies an update only when the note's mtime is newer, and
lets users search removed notes by id. So each note keeps, in its guide's lock file (``aws.md`` ->
``aws.guidedeck.lock``, beside it): its GUID, note id, the ``ID`` field value, a content hash, a
fields hash and an mtime.

On a rebuild every card is matched to the note it was last time, per guide and card kind:

1. same content (after the edit, e.g. a reorder or a renamed heading), preferring the same key;
2. otherwise the most similar remaining note, helped by having the same key or the same place
   (a typo fixed, a sentence rewritten, a table cell edited, a question renamed); a pair must be
   similar enough to count, and a closer pair wins.

Cards left unmatched are new; notes left unmatched were removed from the guide. Keys name a card by
guide, kind, question title, position in the question (table rows: heading and first cell). They
give new notes their GUID and note id, and are the whole identity when there is no lock file. No
GUID is ever derived from a card's content.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from guidedeck.models import Card, Contrast, Fact, Guide, Quiz, Scenario
from guidedeck.parse.extract import slugify

LOCK_SUFFIX = ".guidedeck.lock"
"""A guide's lock file is named after it: ``aws.md`` -> ``aws.guidedeck.lock``."""
LOCK_VERSION = 1

TEXT_CHARS = 400
"""How much normalized text the lock keeps per note for similarity matching."""
MATCH_RATIO = 0.6
"""Two cards whose words are this similar are the same note, wherever they moved."""
SAME_KEY_RATIO = 0.4
"""With the same key (same question and position, or same table row key), this similar is enough."""
SAME_PLACE_RATIO = 0.5
"""With the same place (the n-th card of its kind in the guide), this similar is enough."""

_GUID_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


# --- keys ---------------------------------------------------------------------------------------


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def guid_for_key(key: str) -> str:
    """A 10-character Anki GUID derived from a stable key (not from any field)."""
    value = _digest("guid:" + key)
    chars = []
    for _ in range(10):
        value, rest = divmod(value, len(_GUID_ALPHABET))
        chars.append(_GUID_ALPHABET[rest])
    return "".join(chars)


def stable_number(key: str, span: int) -> int:
    """A number in ``range(span)`` derived from ``key`` (for deck ids)."""
    return _digest("n:" + key) % span


class NoteIds:
    """Note ids for new notes: milliseconds counting down from the build time.

    Anki reads a note id as its creation time and replaces ids that lie in the future, so new
    notes take distinct ids just before ``now``; the lock keeps them from then on, which is what
    lets ``nid:`` searches find them on desktop and on a phone.
    """

    def __init__(self, now: int, taken: set[int]) -> None:
        self.next = now * 1000 - 1
        self.taken = taken

    def take(self) -> int:
        while self.next in self.taken:
            self.next -= 1
        nid, self.next = self.next, self.next - 1
        self.taken.add(nid)
        return nid


def _section_slug(card: Card) -> str:
    section = card.section
    return slugify(section.title)[:60] if section is not None else "intro"


def card_keys(guide: Guide, cards: Sequence[Card]) -> list[str]:
    """Unique, stable keys for ``cards`` (all from ``guide``), in the same order."""
    positions: Counter[tuple[str, str]] = Counter()
    keys: list[str] = []
    for card in cards:
        kind = card.kind.value
        section = _section_slug(card)
        if isinstance(card, Scenario):
            base = f"{guide.slug}/{kind}/{section}"
        elif isinstance(card, Fact):
            row_key = slugify(card.cells[0])[:60]
            base = f"{guide.slug}/{kind}/{section}/{slugify(card.context)[:60]}/{row_key}"
        else:
            positions[(kind, section)] += 1
            base = f"{guide.slug}/{kind}/{section}/{positions[(kind, section)]}"
        keys.append(base)
    # Repeated keys (two rows with the same first cell under one heading) get #2, #3 ...
    return _uniquify(keys, set())


def _uniquify(keys: Iterable[str], taken: set[str]) -> list[str]:
    out = []
    for key in keys:
        candidate, n = key, 1
        while candidate in taken:
            n += 1
            candidate = f"{key}#{n}"
        taken.add(candidate)
        out.append(candidate)
    return out


# --- what a card is, for matching ---------------------------------------------------------------


def card_text(card: Card) -> str:
    """The card's own words (not its place in the guide), for hashing and similarity."""
    if isinstance(card, Quiz):
        parts = [card.prompt, *card.options, f"answer {card.correct}", card.explanation]
    elif isinstance(card, Fact):
        parts = [*card.headers, *card.cells]
    elif isinstance(card, Contrast):
        parts = []
        for side in (card.mistake, card.senior):
            parts += [side.title, side.text, side.code]
        parts.append(card.explanation)
    elif isinstance(card, Scenario):
        parts = [card.question.title, card.scenario, card.challenge,
                 *(o.title for o in card.outline)]  # fmt: skip
    else:
        raise TypeError(f"not a card: {card!r}")
    return "\x1f".join(parts)


def content_hash(card: Card) -> str:
    """Hash of the card's own words: equal hashes mean the same card, wherever it stands."""
    return hashlib.sha256(card_text(card).encode("utf-8")).hexdigest()[:20]


def fields_hash(fields: dict[str, str], tags: Sequence[str]) -> str:
    """Hash of what the note carries (but its fixed ``ID``): unchanged means keep its mtime."""
    blob = json.dumps(
        [sorted((k, v) for k, v in fields.items() if k != "ID"), list(tags)], ensure_ascii=False
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def similarity_text(card: Card) -> str:
    """Lower-case words of the card, cut to :data:`TEXT_CHARS`, kept in the lock for matching.

    A table row is compared by its cells only: rows of one table share their headers, which would
    make unrelated rows look alike.
    """
    text = "\x1f".join(card.cells) if isinstance(card, Fact) else card_text(card)
    return " ".join(_WORD.findall(text.lower()))[:TEXT_CHARS]


_WORD = re.compile(r"\w+")


# --- the lock file -------------------------------------------------------------------------------


@dataclass
class NoteEntry:
    """One note as the lock remembers it."""

    id: str
    """Value of the note's ``ID`` field: set when the note is first made, never changed."""
    key: str
    pos: int
    """The note's place: it was the ``pos``-th card of its kind in the guide."""
    kind: str
    model: int
    """The notetype id the note was made with: another notetype version means another note."""
    guid: str
    nid: int
    chash: str
    fhash: str
    mtime: int
    text: str


@dataclass
class NotetypeEntry:
    """A notetype as last built: its field/template names and its templates + CSS."""

    model_id: int
    schema: str
    design: str
    mtime: int


@dataclass
class GuideLock:
    """The notes of one guide, and the ones removed from it."""

    notes: list[NoteEntry] = field(default_factory=list)
    removed: list[NoteEntry] = field(default_factory=list)


@dataclass
class Lock:
    """A whole lock file (one per guide)."""

    notetypes: dict[str, NotetypeEntry] = field(default_factory=dict)
    guides: dict[str, GuideLock] = field(default_factory=dict)

    def to_json(self) -> str:
        """Stable text: sorted keys, one note per line, so diffs of the lock stay readable."""
        lines = ["{", f' "version": {LOCK_VERSION},', ' "notetypes": {']
        types = sorted(self.notetypes.items())
        for n, (name, entry) in enumerate(types):
            comma = "," if n < len(types) - 1 else ""
            lines.append(f"  {json.dumps(name)}: {_dumps(asdict(entry))}{comma}")
        lines += [" },", ' "guides": {']
        guides = sorted(self.guides.items())
        for n, (name, guide) in enumerate(guides):
            lines.append(f"  {json.dumps(name)}: {{")
            for part in ("notes", "removed"):
                entries = getattr(guide, part)
                lines.append(f'   "{part}": [')
                lines += [
                    f"    {_dumps(asdict(e))}{',' if i < len(entries) - 1 else ''}"
                    for i, e in enumerate(entries)
                ]
                lines.append("   ]" + ("," if part == "notes" else ""))
            lines.append("  }" + ("," if n < len(guides) - 1 else ""))
        lines += [" }", "}"]
        return "\n".join(lines) + "\n"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


class LockError(Exception):
    """The lock file exists but cannot be used; building would lose every note's identity."""


def read_lock(path: Path) -> tuple[Lock, str]:
    """The lock in ``path`` and its text ("" and an empty lock when there is no file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Lock(), ""
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(f"cannot read: {exc}") from None
    return parse_lock(text), text


def load_lock(path: Path) -> Lock:
    """Read ``path``; a missing file is an empty lock, a broken one raises :class:`LockError`."""
    return read_lock(path)[0]


def parse_lock(text: str) -> Lock:
    """A lock from its JSON text; raise :class:`LockError` when it cannot be used."""
    try:
        data = json.loads(text)
        if data.get("version") != LOCK_VERSION:
            raise LockError(f"lock file version {data.get('version')!r} is not {LOCK_VERSION}")
        return Lock(
            {k: NotetypeEntry(**v) for k, v in data["notetypes"].items()},
            {
                name: GuideLock(
                    [NoteEntry(**e) for e in g["notes"]], [NoteEntry(**e) for e in g["removed"]]
                )
                for name, g in data["guides"].items()
            },
        )
    except json.JSONDecodeError as exc:
        raise LockError(f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise LockError(f"unexpected content ({exc})") from None


# --- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A card of this build, as the matcher sees it."""

    kind: str
    key: str
    pos: int
    chash: str
    text: str


def match(old: Sequence[NoteEntry], new: Sequence[Candidate]) -> list[int | None]:
    """For each new card, the index of the old note it continues, or None for a new note."""
    result: list[int | None] = [None] * len(new)
    taken: set[int] = set()
    by_hash: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, entry in enumerate(old):
        by_hash[(entry.kind, entry.chash)].append(i)

    # 1. identical content: it may have moved, its heading or question may have been renamed
    for j, card in enumerate(new):
        pool = [i for i in by_hash.get((card.kind, card.chash), []) if i not in taken]
        if pool:
            keyed = [i for i in pool if old[i].key == card.key]
            chosen = (keyed or pool)[0]
            result[j] = chosen
            taken.add(chosen)

    # 2. edited content: the most similar remaining note of the same kind. The same key or place
    #    only lowers the bar and breaks ties: similarity decides, so a quiz replaced by another at
    #    the same spot is a new note, not an edit.
    words = {i: entry.text.split() for i, entry in enumerate(old) if i not in taken}
    pairs: list[tuple[float, int, int]] = []
    for j, card in enumerate(new):
        if result[j] is not None:
            continue
        for i, entry in enumerate(old):
            if i in taken or entry.kind != card.kind:
                continue
            same_key, same_place = entry.key == card.key, entry.pos == card.pos
            if same_key:
                floor = SAME_KEY_RATIO
            elif same_place:
                floor = SAME_PLACE_RATIO
            else:
                floor = MATCH_RATIO
            matcher = difflib.SequenceMatcher(None, words[i], card.text.split(), autojunk=False)
            if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
                continue
            ratio = matcher.ratio()
            if ratio >= floor:
                bonus = (0.002 if same_key else 0.0) + (0.001 if same_place else 0.0)
                pairs.append((ratio + bonus, j, i))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    for _score, j, i in pairs:
        if result[j] is None and i not in taken:
            result[j] = i
            taken.add(i)
    return result


# --- assigning identities ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """What a note is called in Anki, and whether this build changes it."""

    id_field: str
    guid: str
    nid: int
    mtime: int
    status: str
    """``added``, ``changed`` or ``unchanged``."""


@dataclass
class GuideIdentities:
    """The outcome of matching one guide: an identity per card, and the notes removed."""

    identities: list[Identity]
    removed: list[NoteEntry]
    lock: GuideLock


def candidates(cards: Sequence[Card], keys: Sequence[str]) -> list[Candidate]:
    """What matching needs of each card: kind, key, place, content hash, words."""
    places: Counter[str] = Counter()
    out = []
    for card, key in zip(cards, keys, strict=True):
        places[card.kind.value] += 1
        out.append(
            Candidate(
                card.kind.value,
                key,
                places[card.kind.value],
                content_hash(card),
                similarity_text(card),
            )
        )
    return out


def assign(
    previous: GuideLock,
    models: dict[str, int],
    cands: Sequence[Candidate],
    hashes: Sequence[str],
    now: int,
    taken_guids: set[str],
    note_ids: NoteIds,
) -> GuideIdentities:
    """Match this build's cards to the previous lock and give each an identity.

    ``models`` maps each kind built this time to its notetype id; notes of other kinds are carried
    over untouched, notes of an older notetype version count as removed. ``hashes`` are the
    fields hashes of the rendered notes; ``taken_guids`` holds the GUIDs the whole lock file
    knows, ``note_ids`` hands out ids for new notes.
    """
    old = [e for e in previous.notes if models.get(e.kind) == e.model]
    kept = [e for e in previous.notes if e.kind not in models]
    retired = [e for e in previous.notes if e.kind in models and models[e.kind] != e.model]
    # notes removed earlier can come back when their text does
    returning = [e for e in previous.removed if models.get(e.kind) == e.model]
    pool = old + returning
    matched = match(pool, cands)

    used_ids = {e.id for e in kept} | {pool[i].id for i in matched if i is not None}
    identities: list[Identity] = []
    entries: list[NoteEntry] = []
    for cand, fhash, i in zip(cands, hashes, matched, strict=True):
        if i is not None:
            before = pool[i]
            if before.fhash == fhash and i < len(old):
                status, mtime = "unchanged", before.mtime
            else:
                status, mtime = "changed", max(now, before.mtime + 1)
            id_field, guid, nid = before.id, before.guid, before.nid
        else:
            status, mtime = "added", now
            (id_field,) = _uniquify([cand.key], used_ids)
            guid = guid_for_key(id_field)
            while guid in taken_guids:
                guid = guid_for_key(guid + id_field)
            nid = note_ids.take()
        taken_guids.add(guid)
        identities.append(Identity(id_field, guid, nid, mtime, status))
        entries.append(
            NoteEntry(
                id_field,
                cand.key,
                cand.pos,
                cand.kind,
                models[cand.kind],
                guid,
                nid,
                cand.chash,
                fhash,
                mtime,
                cand.text,
            )
        )
    matched_set = {i for i in matched if i is not None}
    removed = [e for i, e in enumerate(old) if i not in matched_set] + retired
    still_removed = [e for n, e in enumerate(returning) if len(old) + n not in matched_set]
    other_removed = [e for e in previous.removed if models.get(e.kind) != e.model]
    lock = GuideLock(kept + entries, other_removed + still_removed + removed)
    return GuideIdentities(identities, removed, lock)


def taken_ids(lock: Lock) -> tuple[set[str], set[int]]:
    """Every GUID and note id the lock file knows, removed notes included."""
    entries = [e for g in lock.guides.values() for e in (*g.notes, *g.removed)]
    return {e.guid for e in entries}, {e.nid for e in entries}
