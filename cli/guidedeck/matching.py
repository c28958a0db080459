"""The *match* stage: each card of this build finds the remembered note it continues.

First at home (the notes remembered for the card's own guide), as each guide is prepared; then
across guides, for cards still without a note: a note whose guide is gone (renamed, moved) or
that left another guide of this build (an item moved between guides).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from guidedeck.codec import unpack_outline
from guidedeck.identity import match
from guidedeck.memory import Remembered, current
from guidedeck.plan import BuildPlan, GuideWork
from guidedeck.prepare import Reload, Stream
from guidedeck.report import GuideReport


def match_as_prepared(
    plan: BuildPlan, prepared: Stream, on_package: Callable[[int], None] | None = None
) -> None:
    """Take each guide as it is prepared into the plan's work, and match its cards at home;
    ``on_package`` is called with each package's number once all its guides are in."""
    for n, config in enumerate(plan.packages):
        for path, home in zip(config.guides, plan.homes[n], strict=True):
            _take(plan, n, path, home, *next(prepared))
        if on_package is not None:
            on_package(n)


def _take(
    plan: BuildPlan, n: int, path: Path, home: Path, packed: bytes, reload: Reload | None
) -> None:
    """One prepared guide of package ``n`` into the plan's work, matched at home."""
    ready = unpack_outline(packed)  # the cards' fields stay packed until staged
    if plan.options.on_guide is not None:
        plan.options.on_guide(path)
    config, pkg = plan.packages[n], plan.report.packages[n]
    work = GuideWork(n, path, home, tuple(config.kinds),
                     GuideReport(path, diagnostics=ready.diagnostics))  # fmt: skip
    pkg.guides.append(work.report)
    plan.work.append(work)
    problem = plan.memory.lock_errors.get(work.home)
    if problem is not None:
        pkg.problems.append(problem)
        return
    if not ready.usable:
        return
    work.usable, work.title = True, ready.title
    work.report.title = ready.title
    work.cards = {j: candidate for j, (_kind, candidate) in enumerate(ready.cards)}
    work.packed, work.reload = (b"", reload) if reload is not None else (packed, None)
    match_at_home(plan, work)


def only_at_home(plan: BuildPlan) -> bool:
    """Whether matching at home is all the matching this build can do: nothing is remembered (a
    first build), so no card can take a note across guides, and each package's matches are
    final as soon as its guides are in (it may be staged while later guides are prepared)."""
    return not plan.memory.notes


def match_at_home(plan: BuildPlan, work: GuideWork) -> None:
    """Match a guide's cards to the notes remembered for that guide."""
    memory, claimed = plan.memory, plan.claimed
    kinds = {k.value for k in work.kinds}
    pool = [
        r
        for r in memory.home_notes(work.home)
        if r.entry.guid not in claimed and r.entry.kind in kinds and current(r.entry)
    ]
    cards = list(work.cards.values())
    if {c.chash for c in cards} - {r.entry.chash for r in pool}:
        entries = memory.with_words(pool)  # some card changed: similarity needs the words
    else:
        entries = [r.entry for r in pool]
    found = match(entries, cards)
    work.matched = [None if i is None else pool[i].entry.guid for i in found]
    for j, guid in enumerate(work.matched):
        if guid is not None:
            claimed.add(guid)
            del work.cards[j]  # only cards still without a note are matched again


def match_across(plan: BuildPlan) -> None:
    """Cards still without a note may take one whose guide is gone or that left its guide."""
    pool = _unclaimed(plan)
    slots = [(w, j) for w in plan.work if w.usable for j, g in enumerate(w.matched) if g is None]
    if not pool or not slots:
        return
    cards = [work.cards[j] for work, j in slots]
    entries = plan.memory.with_words(pool)
    paired = _own_origins(pool, slots)
    found = match(
        entries, cards, hinted=lambda i, j: paired.get(slots[j][0].home) == pool[i].origin
    )
    for (work, j), i in zip(slots, found, strict=True):
        if i is not None:
            work.matched[j] = pool[i].entry.guid
            plan.claimed.add(pool[i].entry.guid)


def _unclaimed(plan: BuildPlan) -> list[Remembered]:
    """Notes no card took at home: of gone guides, or of a kind their guide still makes."""
    built: dict[Path, set[str]] = defaultdict(set)
    for work in plan.work:
        if work.usable:
            built[work.home].update(k.value for k in work.kinds)
    return [
        r
        for r in plan.memory.notes.values()
        if r.entry.guid not in plan.claimed
        and (r.home is None or r.entry.kind in built.get(r.home, ()))
        and current(r.entry)
    ]


def _own_origins(pool: list[Remembered], slots: list[tuple[GuideWork, int]]) -> dict[Path, Path]:
    """Each guide's own origin: the file where most of its unchanged cards are found (its old
    lock or deck after a rename). There, key and place may serve as hints; elsewhere not."""
    origins: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for r in pool:
        origins[(r.entry.kind, r.entry.chash)].append(r.origin)
    votes: dict[Path, Counter[Path]] = defaultdict(Counter)
    for work, j in slots:
        card = work.cards[j]
        votes[work.home].update(origins.get((card.kind, card.chash), [])[:1])
    return {home: count.most_common(1)[0][0] for home, count in votes.items() if count}


__all__ = ["match_across", "match_as_prepared", "match_at_home"]
