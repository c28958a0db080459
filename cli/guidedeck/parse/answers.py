"""How a question's answer becomes cards: one rule for every convention.

A card is worth a review only if the learner can check the answer on its back, on one phone
screen (SuperMemo's "20 rules": minimum information, but an answer to check). So:

- an answer of at most :data:`PROSE_LIMIT` words of prose (code aside) is the back of the
  question's card, whole;
- a longer answer keeps the question's card (the note the user has) as an overview: each
  *answer point* (a step heading, a bold step line, an answer label) with its key content (its
  first sentence, else its first list item or code line); and each point gets a card of its own
  ("Part 2 of 4 of the answer: Step 2 ..."), its whole text behind, split again between blocks
  (then sentences) where it is still too long. An answer without points is cut into parts
  (``Part 2 of 3``) the same way;
- an answer that is a placeholder ("To be completed", "TBD", "TODO", "Coming soon") or empty
  makes no card.

Parts are keyed by their point's title (never by their place), so inserting, editing or removing
a step later leaves every other step's note alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from guidedeck.models import OutlineItem, Question, Reveal, Scenario

PROSE_LIMIT = 350
"""Words of prose one card back may carry (code blocks aside): a phone screen or two."""
PART_WORDS = 300
"""Words of prose a part's card takes from the answer: the limit, less room for what the card
adds around it (its place in the outline, a note of the parts)."""
WHOLE_WORDS = 325
"""Words of prose an answer may have to be the back of its question's card, whole (the rest of
the limit is for what the card shows around it: its tests, a note)."""
KEY_WORDS = 40
"""Words of a point's key content on the overview (a longer first sentence is shortened)."""

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_WORD = re.compile(r"[^\W_](?:[\w'\u2019.-]*[^\W_])?")
_MARKUP = re.compile(r"<[^>]+>|[*_`#>|]+|\[([^\]]*)\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])[)\"'\u2019\u201d]?\s+(?=[A-Z0-9`*_(\"'\u201c\[])")
_BOLD_LEAD = re.compile(r"^\s*\*\*(?:(?!\*\*).)+\*\*\s*:?\s*")
_LINK = re.compile(r"!?\[[^\]]*\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
_POINTERS = re.compile(
    r"(?:useful\s+)?(?:resources|links|references|see\s+also|further\s+reading|sources)",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_PLACEHOLDER = re.compile(
    r"^(?:to\s+be\s+(?:completed|done|added|written|continued)|tbd|tba|todo|to\s*do|"
    r"coming\s+soon|wip|work\s+in\s+progress|placeholder|n/?a|\?+|\.{3}|…)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Point:
    """One answer point as read: its title ("" for the text before the first point) and its
    blocks (Markdown), the first of which may be its bold title line."""

    item: OutlineItem | None
    blocks: tuple[str, ...]


def prose_words(markdown: str) -> int:
    """Words of prose in ``markdown``: fenced code, tags and Markdown marks not counted."""
    return len(_WORD.findall(_prose(markdown)))


def _prose(markdown: str) -> str:
    out, fence = [], ""
    for line in markdown.split("\n"):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            continue
        if opened:
            fence = opened.group(1)
            continue
        out.append(line)
    return _MARKUP.sub(lambda m: m.group(1) or " ", "\n".join(out))


def placeholder(blocks: list[str]) -> bool:
    """Whether an answer says nothing yet: empty, or a placeholder ("To be completed"), maybe
    followed by links to read (which answer nothing on a card)."""
    said = [b for b in blocks if not _only_pointers(b)]
    if any(_FENCE.match(b.strip()) for b in said):
        return False  # code answers
    text = " ".join(_prose("\n\n".join(said)).split()).strip(" .!:-\u2013\u2014")
    return not text or _PLACEHOLDER.fullmatch(text) is not None


def _only_pointers(block: str) -> bool:
    """A block of links alone, or its label ("Useful resources:")."""
    if _FENCE.match(block.strip()):
        return False
    text = " ".join(_prose(_LINK.sub("", block)).split()).strip(" .:-*")
    return not text or _POINTERS.fullmatch(text) is not None


def key_content(point: Point) -> str:
    """What the overview shows of a point: the first sentence of its first prose, else its
    first list item, else its first line of code (as code); at most :data:`KEY_WORDS` words."""
    for text in _said(point):
        if not text or text.startswith(("#", "|", "<")):
            continue
        opened = _FENCE.match(text)
        if opened:
            code = [ln.strip() for ln in text.split("\n")[1:] if ln.strip()]
            code = [ln for ln in code if not _FENCE.match(ln) and not ln.startswith(("//", "#"))]
            if code:
                return f"`{code[0][:120].replace('`', '')}`"
            continue
        first_line = text.split("\n", 1)[0]
        listed = _LIST_ITEM.match(first_line)
        if listed:
            text = listed.group(1)
        text = " ".join(text.lstrip("> ").split())
        return _shorten(_SENTENCE_END.split(text, 1)[0])
    return ""


def _shorten(sentence: str) -> str:
    words = sentence.split(" ")
    return sentence if len(words) <= KEY_WORDS else " ".join(words[:KEY_WORDS]) + " …"


def pieces(blocks: list[str], limit: int = PART_WORDS) -> list[list[str]]:
    """``blocks`` in runs of at most ``limit`` words of prose, cut between blocks (a block too
    long alone is cut between sentences); never empty."""
    out: list[list[str]] = [[]]
    used = 0
    for piece in [p for block in blocks for p in _sentences_of(block, limit)]:
        words = prose_words(piece)
        if out[-1] and used + words > limit:
            out.append([])
            used = 0
        out[-1].append(piece)
        used += words
    return out


CONTINUES = "*… continues in the guide*"


def fit(markdown: str, budget: int) -> str:
    """``markdown`` within ``budget`` words of prose, cut between blocks (then sentences) and
    marked as going on; whole when it fits. Beside a quiz or a contrast, an explanation is
    extra: their answer is the correct option, the two sides."""
    if prose_words(markdown) <= budget:
        return markdown
    blocks = [b for b in re.split(r"\n\s*\n", markdown) if b.strip()]
    first = pieces(blocks, max(budget, 40))[0]
    return "\n\n".join([*first, CONTINUES])


def _sentences_of(block: str, limit: int) -> list[str]:
    if prose_words(block) <= limit or _FENCE.match(block.strip()):
        return [block]
    runs: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(block.split())):
        if runs and prose_words(runs[-1]) + prose_words(sentence) <= limit:
            runs[-1] += " " + sentence
        else:
            runs.append(sentence)
    return runs


@dataclass
class AnswerCards:
    """The cards one question makes (see the module's docstring)."""

    question: Question
    setup: str
    task: str
    reveals: tuple[Reveal, ...] = ()

    def make(self, points: list[Point]) -> list[Scenario]:
        """The question's card, then its parts' cards (none when the answer fits one back)."""
        q, outline = self.question, tuple(p.item for p in points if p.item is not None)
        whole = [b for p in points for b in p.blocks]
        base = Scenario(q.loc, q, self.setup, self.task, outline, "", self.reveals)
        if prose_words("\n\n".join(whole)) <= WHOLE_WORDS:
            return [replace(base, answer="\n\n".join(whole))]
        if not outline:  # no points: the answer in parts, the first on the question's card
            chunks = pieces(whole)
            first = replace(base, answer="\n\n".join(chunks[0]), parts=len(chunks))
            rest: list[tuple[OutlineItem | None, list[str]]] = [(None, c) for c in chunks[1:]]
            return [first, *self._parts(q, (), rest, start=2)]
        keyed = tuple(replace(i, key=key_content(p)) for p in points if (i := p.item))
        overview = self._overview(base, keyed, points)
        runs: list[tuple[OutlineItem | None, list[str]]] = []
        carried: list[str] = []
        for point in points:
            if point.item is not None and not _has_content(point):
                carried.extend(point.blocks)  # a title alone (a parent heading): with the next
                continue
            runs.extend((point.item, run) for run in pieces([*carried, *point.blocks]))
            carried = []
        if carried:
            runs.append((None, carried))
        parts = self._parts(q, keyed, runs, start=1)
        return [replace(overview, parts=len(parts)), *parts]

    @staticmethod
    def _overview(base: Scenario, keyed: tuple[OutlineItem, ...], points: list[Point]) -> Scenario:
        """The question's card of a long answer: every point with its key content, within the
        limit (the keys of the last points give way first: their own cards hold them)."""
        lead = next((p for p in points if p.item is None), None)
        intro = key_content(Point(None, lead.blocks)) if lead is not None else ""
        items = list(keyed)
        words = prose_words(intro) + sum(prose_words(f"{i.title} {i.key}") for i in items)
        for n in range(len(items) - 1, -1, -1):
            if words <= PART_WORDS:
                break
            words -= prose_words(items[n].key)
            items[n] = replace(items[n], key="")
        return replace(base, outline=tuple(items), answer=intro)

    def _parts(
        self, q: Question, outline: tuple[OutlineItem, ...],
        runs: list[tuple[OutlineItem | None, list[str]]], start: int,
    ) -> list[Scenario]:  # fmt: skip
        """A card per run: the question as context, the run's point (and its place) as the
        prompt, the run behind."""
        total = len(runs) + start - 1
        out: list[Scenario] = []
        seen: dict[str, int] = {}
        for n, (item, run) in enumerate(runs, start=start):
            title = item.title if item is not None else ""
            seen[title] = seen.get(title, 0) + 1
            loc = item.loc if item is not None else q.loc
            out.append(Scenario(
                loc, q, "", "", outline, "\n\n".join(run), (), part=n, parts=total,
                point=title, piece=seen[title],
            ))  # fmt: skip
        return out


def _said(point: Point) -> Iterator[str]:
    """A point's blocks, stripped, its title taken off its first (a bold line or lead)."""
    for n, block in enumerate(point.blocks):
        text = block.strip()
        if n == 0 and point.item is not None and text.startswith("**"):
            text = _BOLD_LEAD.sub("", text, count=1)
        yield text


def _has_content(point: Point) -> bool:
    """Whether a point says more than its title."""
    return any(_said(point))


__all__ = [
    "CONTINUES",
    "KEY_WORDS",
    "PART_WORDS",
    "PROSE_LIMIT",
    "WHOLE_WORDS",
    "AnswerCards",
    "Point",
    "fit",
    "key_content",
    "pieces",
    "placeholder",
    "prose_words",
]
