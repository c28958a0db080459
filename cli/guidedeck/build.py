"""``guidedeck build``: the pipeline, start to end, as its stages (mkdocs' ``commands/build``).

| stage | module | what it does |
|---|---|---|
| skip | :mod:`guidedeck.unchanged` | nothing changed since the last build: its report, unread |
| resolve inputs | :mod:`guidedeck.plan` | each guide's lock file, the folders with gone guides |
| remember | :mod:`guidedeck.memory` | what the decks last built and the lock files hold |
| prepare | :mod:`guidedeck.prepare` | every guide read, parsed and rendered (cached, in workers) |
| match | :mod:`guidedeck.matching` | each card to the note it continues: at home, then across |
| assign identities | :mod:`guidedeck.identities` | GUID, note id, ``ID`` and mtime per note |
| stage | :mod:`guidedeck.stage` | each deck and lock written aside |
| commit | :mod:`guidedeck.commit` | all staged files put in place together, or none |
| report | :mod:`guidedeck.report` | what happened, for the summary and the exit code |

Everything is gathered before anything is staged (mkdocs' rule), so a card can find its note in
any guide; only a first build, which remembers no note for a card to find, stages each package as
soon as its guides are in. Nothing is in place before the commit. A package is written only
when all its guides were read without an error (or, with ``strict``, without a warning);
otherwise the deck built last time stays as it was. Builds that touch the same folders wait for
each other (a file lock), so they never trip on each other's temporary files or interleave lock
writes. What "removed" means is :mod:`guidedeck.removal`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from guidedeck.cache import Cache
from guidedeck.config import PackageConfig
from guidedeck.report import BuildReport


def build(
    packages: Sequence[PackageConfig],
    out_dir: Path,
    *,
    strict: bool = False,
    dry_run: bool = False,
    on_guide: Callable[[Path], None] | None = None,
    now: int | None = None,
    jobs: int = 1,
    roots: Sequence[Path] = (),
    cache: Cache | None = None,
) -> BuildReport:
    """Build and write every package and lock file; report what happened.

    Never raises for bad guides: problems end up in the report. ``dry_run`` computes everything
    and writes nothing. ``now`` (seconds) is the mtime given to new and changed notes; ``jobs``
    is how many processes read and render guides; ``roots`` are the folders the guides were
    found in (searched for lock files of guides that are gone). ``cache`` holds guides prepared
    by earlier builds and what each deck was built from (none: everything is made).
    """
    from guidedeck.unchanged import nothing_to_do

    if cache is not None and not dry_run:  # skip: nothing changed since the last build
        unchanged = nothing_to_do(packages, out_dir, roots, strict, cache)
        if unchanged is not None:
            return unchanged
    from guidedeck.commit import staged_build
    from guidedeck.plan import BuildOptions

    options = BuildOptions(
        out_dir, strict, dry_run, int(time.time()) if now is None else now, jobs, tuple(roots),
        on_guide,
    )  # fmt: skip
    with staged_build(packages, options, cache) as staged:
        staged.commit()  # and the state of what it read and wrote kept (guidedeck.unchanged)
    return staged.plan.report


__all__ = ["BuildReport", "build"]
