"""Who a note is: stable keys, what a card's content is, and matching old notes to new cards.

Anki finds the note to update by GUID, applies an update only when the note's mtime is newer, and
lets users search notes by field. A note's identity (GUID, note id, ``ID`` field) is given once,
when the note is first made, and from then on remembered: by the decks the user last imported
and by the lock file (see :mod:`guidedeck.memory`).

On a rebuild every card is matched to the note it was last time, per card kind:

1. same content (after a move, a reorder or a renamed heading), preferring the same key;
2. otherwise the most similar remaining note, helped by having the same key or the same place
   (a typo fixed, a sentence rewritten, a table cell edited); a pair must be similar enough to
   count, and a closer pair wins.

Content and similarity are computed from the rendered fields, so a note read back from a deck
compares exactly like a card of this build. Keys name a card by guide, kind, question and its own
name (a quiz's question, a row's first cell), never by its position: two branches that each add
a quiz to one question give them different keys, and so different GUIDs. A GUID is made once,
at the note's birth, from its key and the content hash it was born with (two branches that add
different cards under one key, such as questions sharing their first 48 characters, never share a
GUID); from then on it is remembered, never derived again, so no edit ever changes it.
"""

from __future__ import annotations

import difflib
import hashlib
import heapq
import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Generic, TypeVar

from guidedeck.cards import KINDS
from guidedeck.lockfile import NoteEntry
from guidedeck.models import Card, CardKind, Guide
from guidedeck.slugs import slugify

MATCH_RATIO = 0.6
"""Two cards whose words are this similar are the same note, wherever they moved."""
SAME_KEY_RATIO = 0.4
"""With the same key (same question and name, or same table row key), this similar is enough."""
SAME_PLACE_RATIO = 0.5
"""With the same place (the n-th card of its kind in its question), this similar is enough."""
TEXT_CHARS = 400
"""How much normalized text the lock keeps per note for similarity matching."""

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


T = TypeVar("T")


class Taken(Generic[T]):
    """What is taken: a set read from elsewhere (never changed) and what was taken since."""

    def __init__(self, before: AbstractSet[T]) -> None:
        self.before = before
        self.since: set[T] = set()

    def __contains__(self, value: object) -> bool:
        return value in self.since or value in self.before

    def add(self, value: T) -> None:
        """Take ``value``."""
        self.since.add(value)


class NoteIds:
    """Note ids for new notes: milliseconds counting down from the build time.

    Anki reads a note id as its creation time and replaces ids that lie in the future, so new
    notes take distinct ids just before ``now``; the lock keeps them from then on, which is what
    lets ``nid:`` searches find them on desktop and on a phone.
    """

    def __init__(self, now: int, taken: set[int] | Taken[int]) -> None:
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


def card_keys(guide: Guide, cards: Sequence[Card]) -> list[tuple[str, int]]:
    """A unique, stable key and a place for each of ``cards`` (all from ``guide``).

    The key names the card (guide, kind, question, its own name); the place counts cards of its
    kind within its question. A card without a name of its own (a quiz that is only code) is
    named by its place.
    """
    places: Counter[tuple[str, str]] = Counter()
    keys: list[str] = []
    positions: list[int] = []
    for card in cards:
        spec = KINDS.of(card)
        kind = card.kind.value
        section = _section_slug(card)
        places[(kind, section)] += 1
        pos = places[(kind, section)]
        base = f"{guide.slug}/{kind}/{section}"
        if not spec.keyed_by_section:
            base += f"/{spec.key_name(card) or pos}"
        elif name := spec.key_name(card):  # a part of the section's card (its answer's)
            base += f"/{name}"
        keys.append(base)
        positions.append(pos)
    # repeated keys (two rows with the same first cell under one heading) get #2, #3 ...
    return list(zip(uniquify(keys, set()), positions, strict=True))


def uniquify(keys: Iterable[str], taken: set[str] | Taken[str]) -> list[str]:
    """``keys`` made distinct from each other and from ``taken`` (which they are added to)."""
    out = []
    for key in keys:
        candidate, n = key, 1
        while candidate in taken:
            n += 1
            candidate = f"{key}#{n}"
        taken.add(candidate)
        out.append(candidate)
    return out


def local_key(key: str) -> str:
    """A key without its guide: the same card keeps it when its guide is renamed."""
    return key.split("/", 1)[-1]


# --- what a card is, for matching ---------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")


def field_text(value: str, gap: str = " ") -> str:
    """A note field's text: its tags replaced by ``gap``, its entities decoded."""
    return html.unescape(_TAG.sub(gap, value))


def content_hash(kind: CardKind, fields: Mapping[str, str]) -> str:
    """Hash of the card's own words: equal hashes mean the same card, wherever it stands."""
    blob = "\x1f".join(fields.get(name, "") for name in KINDS[kind].content_fields)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def similarity_text(kind: CardKind, fields: Mapping[str, str]) -> str:
    """Lower-case words of the card's own fields, cut to :data:`TEXT_CHARS`."""
    spec = KINDS[kind]
    parts = []
    for name in spec.content_fields:
        value = fields.get(name, "")
        if spec.shared_words is not None:
            value = spec.shared_words.sub(" ", value)
        parts.append(field_text(value))
    return " ".join(_WORD.findall(" ".join(parts).lower()))[:TEXT_CHARS]


def fields_hash(fields: Mapping[str, str], tags: Sequence[str]) -> str:
    """Hash of what the note carries (but its fixed ``ID``): unchanged means keep its mtime."""
    blob = json.dumps(
        [sorted((k, v) for k, v in fields.items() if k != "ID"), list(tags)], ensure_ascii=False
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


# --- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A card of this build, as the matcher sees it."""

    kind: str
    key: str
    pos: int
    chash: str
    text: str

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # rebuilt through __init__: dataclasses' own pickling of slotted classes sets each
        # field by name, and was the largest cost of a rebuild from the cache
        return (type(self), tuple(getattr(self, name) for name in self.__slots__))


def candidate(kind: CardKind, key: str, pos: int, fields: Mapping[str, str]) -> Candidate:
    """What matching needs of a rendered card."""
    return Candidate(
        kind.value, key, pos, content_hash(kind, fields), similarity_text(kind, fields)
    )


Hinted = Callable[[int, int], bool]
"""``hinted(i, j)``: may old note ``i`` and card ``j`` use key and place as hints?"""


def match(
    old: Sequence[NoteEntry], new: Sequence[Candidate], hinted: Hinted | None = None
) -> list[int | None]:
    """For each new card, the index of the old note it continues, or None for a new note.

    Keys are compared without their guide part, so a renamed guide's cards keep their hints.
    ``hinted`` limits where key and place may help (across guides, only to the guide's own
    origin); by default everywhere.
    """
    result: list[int | None] = [None] * len(new)
    taken: set[int] = set()
    by_hash: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, entry in enumerate(old):
        by_hash[(entry.kind, entry.chash)].append(i)
    old_keys = [local_key(e.key) for e in old]
    new_keys = [local_key(c.key) for c in new]

    # 1. identical content: it may have moved, its heading or question may have been renamed
    for j, card in enumerate(new):
        pool = [i for i in by_hash.get((card.kind, card.chash), []) if i not in taken]
        if pool:
            keyed = [i for i in pool if old_keys[i] == new_keys[j]]
            chosen = (keyed or pool)[0]
            result[j] = chosen
            taken.add(chosen)

    # 2. edited content: the most similar remaining note of the same kind. The same key or place
    #    only lowers the bar and breaks ties: similarity decides, so a quiz replaced by another at
    #    the same spot is a new note, not an edit.
    words = {i: entry.text.split() for i, entry in enumerate(old) if i not in taken}
    waiting = [j for j in range(len(new)) if result[j] is None]
    card_words = {j: new[j].text.split() for j in waiting}
    pairs: list[tuple[float, int, int]] = []
    for j, near in _near_pairs(old, new, words, card_words):
        card = new[j]
        for i in near:
            entry = old[i]
            hints = hinted is None or hinted(i, j)
            same_key = hints and old_keys[i] == new_keys[j]
            same_place = hints and entry.pos == card.pos
            if same_key:
                floor = SAME_KEY_RATIO
            elif same_place:
                floor = SAME_PLACE_RATIO
            else:
                floor = MATCH_RATIO
            matcher = difflib.SequenceMatcher(None, words[i], card_words[j], autojunk=False)
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


EXHAUSTIVE_PAIRS = 40_000
"""Up to this many (changed card, note) pairs, every pair is compared: exact, and fast enough
(an everyday edit changes a few cards). Beyond it, each card is compared with its nearest notes
only."""
NEAREST = 12
"""How many notes, ranked by the rare words they share with a card, it is compared with."""
COMMON_SHARE = 0.05
"""A word in more than this share of the texts (and in over 32) ranks nobody: 'the', 'port'."""


def _near_pairs(
    old: Sequence[NoteEntry],
    new: Sequence[Candidate],
    words: Mapping[int, list[str]],
    card_words: Mapping[int, list[str]],
) -> Iterator[tuple[int, list[int]]]:
    """For each waiting card, the old notes of its kind worth comparing it with.

    Comparing every changed card with every note is quadratic: 25 s for a table of 1,000 rows
    whose header was renamed. Past :data:`EXHAUSTIVE_PAIRS`, an inverted index over rare words
    ranks the notes by the weight (inverse document frequency) of the words they share with the
    card, and the card meets only the :data:`NEAREST` of them (plus any with no rare word at
    all), which keeps the work near-linear in the number of changed cards.
    """
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i in words:
        by_kind[old[i].kind].append(i)
    total = sum(len(by_kind.get(new[j].kind, ())) for j in card_words)
    if total <= EXHAUSTIVE_PAIRS:
        for j in card_words:
            yield j, by_kind.get(new[j].kind, [])
        return
    frequency: Counter[str] = Counter()
    for text in (*words.values(), *card_words.values()):
        frequency.update(set(text))
    common = max(32, int(COMMON_SHARE * (len(words) + len(card_words))))
    weight = {w: 1.0 / n for w, n in frequency.items() if n <= common}
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    plain: dict[str, list[int]] = defaultdict(list)
    for i, text in words.items():
        rare = {w for w in text if w in weight}
        if not rare:
            plain[old[i].kind].append(i)
        for w in rare:
            index[(old[i].kind, w)].append(i)
    for j, text in card_words.items():
        kind = new[j].kind
        rare = {w for w in text if w in weight}
        if not rare:
            yield j, by_kind.get(kind, [])  # nothing rare to rank by: compare with all
            continue
        score: dict[int, float] = defaultdict(float)
        for w in rare:
            for i in index.get((kind, w), ()):
                score[i] += weight[w]
        nearest = heapq.nlargest(NEAREST, score, key=lambda i: (score[i], -i))
        yield j, sorted({*nearest, *plain.get(kind, [])})


# --- finding notes in Anki ----------------------------------------------------------------------

_SEARCH_SPECIAL = re.compile(r'([\\"*_:()])')


def anki_search(ids: Iterable[str]) -> str:
    """An Anki search that finds exactly the guidedeck notes with these ``ID`` field values.

    The ``ID`` field is kept by Anki whatever note id it gave the note, so the search works on
    every device and after any lock file was lost (``nid:`` would not).
    """
    terms = ['"ID:' + _SEARCH_SPECIAL.sub(r"\\\1", value) + '"' for value in ids]
    return f'"note:guidedeck*" ({" OR ".join(terms)})'
