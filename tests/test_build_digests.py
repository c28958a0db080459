"""Every deck and lock file the build writes, pinned by digest (issue #22).

The digests in ``fixtures/build_digests.json`` were recorded before the build was split into its
stages; whatever moves inside the pipeline, the files it writes must stay byte for byte the same,
cache on and off. Each workspace goes through a history (first build, no edit, a table row edited,
a guide renamed, a lock file lost, a guide removed), and the digests are compared after each step.

Deck bytes also depend on the renderer's and the packager's versions (Pygments, markdown-it-py,
genanki, zlib, SQLite): the file records them, and a run under other versions is skipped with
the reason, never passed. Record again only at a commit whose output is known to be right:
``GUIDEDECK_UPDATE_GOLDEN=1 pytest tests/test_build_digests.py``, then review the diff.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import sys
import zlib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

from guidedeck.build import build
from guidedeck.cache import Cache
from guidedeck.inputs import resolve
from tests.anki_engine import assert_every_deck_imports
from tests.conftest import CORPUS, FIXTURES, ROOT, UPDATE, corpus_guides
from tests.test_cache import STEPS as SAMPLE_STEPS

DIGESTS = FIXTURES / "build_digests.json"
DIALECTS = CORPUS.parent / "dialects"
NOW = 1_790_000_000


def environment() -> dict[str, str]:
    """What besides guidedeck's code decides a deck's bytes."""
    packages = ("genanki", "markdown-it-py", "mdit-py-plugins", "nh3", "pygments", "pyyaml")
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        **versions,
        "python": ".".join(map(str, sys.version_info[:2])),
        "sqlite": sqlite3.sqlite_version,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
    }


# --- histories ----------------------------------------------------------------------------------


def _guides(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".md", ".mdx") and p.is_file())


def _edit_a_row(folder: Path) -> None:
    """Edit the first table body row of the first guide that has one (else add a paragraph)."""
    for path in _guides(folder):
        lines = path.read_text(encoding="utf-8").split("\n")
        for n in range(1, len(lines)):
            if lines[n].startswith("|") and "---" in lines[n - 1] and lines[n - 1].startswith("|"):
                lines[n] = lines[n].replace("|", "| (edited)", 2).replace("| (edited)", "|", 1)
                path.write_text("\n".join(lines), encoding="utf-8")
                return
    first = _guides(folder)[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nAn added paragraph.\n", "utf-8")


def _rename_first(folder: Path) -> None:
    first = _guides(folder)[0]
    first.rename(first.with_name("renamed-" + first.name))


def _lose_a_lock(folder: Path) -> None:
    locks = sorted(folder.rglob("*.guidedeck.lock"))
    if locks:
        locks[len(locks) // 2].unlink()


def _remove_last(folder: Path) -> None:
    guides = _guides(folder)
    if len(guides) > 1:
        guides[-1].unlink()


HISTORY: list[tuple[str, Callable[[Path], object]]] = [
    ("first build", lambda f: None),
    ("no edit", lambda f: None),
    ("a table row edited", _edit_a_row),
    ("a guide renamed", _rename_first),
    ("a lock file lost", _lose_a_lock),
    ("a guide removed", _remove_last),
]


def _copy(sources: list[Path], base: Path | None = None) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        folder.mkdir(parents=True)
        for source in sources:
            target = folder / (source.relative_to(base) if base else source.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    return setup


def _workspaces() -> dict[str, list[tuple[str, Callable[[Path], object]]]]:
    """Each workspace: its steps (the first one lays the guides out in an empty folder)."""
    spaces: dict[str, list[tuple[str, Callable[[Path], object]]]] = {
        "sample": [(name, change) for name, change, _prepared in SAMPLE_STEPS],
    }
    fixtures = [
        *sorted((FIXTURES / "parse").glob("*.md")),
        FIXTURES / "updates" / "v1.md",
        FIXTURES / "decks" / "hostile.md",
        ROOT / "deck_source" / "backend-basics.md",
    ]
    spaces["fixtures"] = [("lay out", _copy(fixtures)), *HISTORY]
    if DIALECTS.is_dir():
        for sample in sorted(p for p in DIALECTS.iterdir() if p.is_dir()):
            files = _guides(sample)
            spaces[f"dialect {sample.name}"] = [("lay out", _copy(files, sample)), *HISTORY]
    guides = corpus_guides()
    if guides:
        spaces["corpus"] = [("lay out", _copy(guides)), *HISTORY]
    return spaces


def _digests(folder: Path, out: Path) -> dict[str, str]:
    files = [*(out.glob("*.apkg")), *folder.rglob("*.guidedeck.lock")]
    return {
        (f"out/{p.name}" if p.parent == out else f"guides/{p.relative_to(folder)}"):
        hashlib.sha256(p.read_bytes()).hexdigest()[:24]
        for p in sorted(files)
    }  # fmt: skip


def _run(name: str, root: Path, cached: bool) -> list[dict[str, str]]:
    folder, out = root / "guides", root / "out"
    states = []
    imported: set[str] = set()
    for n, (_step, change) in enumerate(_workspaces()[name]):
        change(folder)
        inputs = resolve([folder])
        cache = Cache.under(out) if cached else Cache(None)
        build(inputs.packages, out, roots=inputs.roots,
              now=NOW + 100 * n, cache=cache, jobs=2 if cached else 1)  # fmt: skip
        states.append(_digests(folder, out))
        if not cached:  # the cached run writes the same bytes (compared below)
            assert_every_deck_imports(sorted(out.glob("*.apkg")), root / "anki", imported)
    return states


def _recorded() -> dict[str, object]:
    if not DIGESTS.is_file():
        pytest.fail(f"{DIGESTS} is missing: record it at a known-good commit (see this module)")
    data: dict[str, object] = json.loads(DIGESTS.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("name", sorted(_workspaces()))
def test_the_build_writes_the_recorded_bytes(name: str, tmp_path: Path) -> None:
    plain = _run(name, tmp_path / "plain", cached=False)
    assert _run(name, tmp_path / "cached", cached=True) == plain
    if UPDATE:
        data = json.loads(DIGESTS.read_text(encoding="utf-8")) if DIGESTS.is_file() else {}
        data["environment"] = environment()
        data.setdefault("workspaces", {})[name] = plain
        DIGESTS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    recorded = _recorded()
    if recorded["environment"] != environment():
        pytest.skip(f"digests recorded under {recorded['environment']}, not {environment()}")
    workspaces = recorded["workspaces"]
    assert isinstance(workspaces, dict)
    if name not in workspaces:
        pytest.fail(f"no digests recorded for {name!r}")
    expected = workspaces[name]
    assert len(plain) == len(expected)
    for step, (got, want) in enumerate(zip(plain, expected, strict=True)):
        assert got == want, f"{name}, step {step}: {_workspaces()[name][step][0]}"
