"""The build cache (issue #17): it never changes a result, and invalidates exactly what it should.

Two workspaces go through the same history of edits, one building with the cache and one
without; after every step their decks and lock files must be byte for byte the same. Every
distinct deck built on the way is imported into Anki.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from guidedeck.build import BuildReport, build
from guidedeck.cache import CACHE_DIR, Cache, fingerprint
from guidedeck.inputs import resolve
from tests.anki_engine import assert_healthy_import, fresh_collection, import_package
from tests.conftest import FIXTURES, ROOT
from tests.test_media import GUIDE as IMAGE_GUIDE
from tests.test_media import png

NOW = 1_790_000_000
SAMPLE = ROOT / "deck_source" / "backend-basics.md"
PARSE = FIXTURES / "parse"
GUIDES = [SAMPLE, *(PARSE / name for name in ("tables.md", "quick_check.md", "contrasts.md"))]


def _setup(folder: Path) -> None:
    folder.mkdir(parents=True)
    for guide in GUIDES:
        shutil.copyfile(guide, folder / guide.name)
    (folder / "img").mkdir()
    (folder / "diagrams.md").write_text(IMAGE_GUIDE, encoding="utf-8")
    (folder / "img" / "dns.png").write_bytes(png((200, 0, 0)))
    (folder / "img" / "tls.png").write_bytes(png((0, 0, 200)))


def _edit_row(folder: Path) -> None:
    path = folder / "backend-basics.md"
    lines = path.read_text(encoding="utf-8").split("\n")
    row = next(n for n, line in enumerate(lines) if line.startswith("| ") and "---" not in line
               and n > 0 and lines[n - 1].startswith("|") and "---" in lines[n - 1])  # fmt: skip
    lines[row] = lines[row].replace(" |", " (edited) |", 1)
    path.write_text("\n".join(lines), encoding="utf-8")


STEPS: list[tuple[str, Callable[[Path], object], int]] = [
    ("first build", _setup, 5),
    ("no edit", lambda f: None, 0),
    ("a table row edited", _edit_row, 1),
    ("an image changed", lambda f: (f / "img" / "dns.png").write_bytes(png((0, 200, 0))), 1),
    ("a missing image added", lambda f: (f / "img" / "cache.png").write_bytes(png((9, 9, 9))), 1),
    ("a guide renamed", lambda f: (f / "tables.md").rename(f / "lookup-tables.md"), 1),
    ("a lock file lost", lambda f: (f / "quick_check.guidedeck.lock").unlink(), 0),
    ("a guide removed", lambda f: (f / "contrasts.md").unlink(), 0),
]
"""Each step: what it does to the guides, and how many guides the cached build must prepare."""


def _build(folder: Path, out: Path, cache: Cache, now: int, jobs: int) -> BuildReport:
    inputs = resolve([folder])
    report = build(inputs.packages, out, roots=inputs.roots, now=now,
                   cache=cache, jobs=jobs)  # fmt: skip
    assert not report.diagnostics or all(d.severity.value == "warning" for d in report.diagnostics)
    return report


def _files(folder: Path, out: Path) -> dict[str, bytes]:
    found = {**{f"out/{p.name}": p.read_bytes() for p in out.glob("*.apkg")},
             **{f"guides/{p.name}": p.read_bytes() for p in folder.glob("*.lock")}}  # fmt: skip
    assert found
    return found


def test_builds_with_and_without_the_cache_are_byte_identical(tmp_path: Path) -> None:
    cached, plain = tmp_path / "cached", tmp_path / "plain"
    decks: dict[str, tuple[bytes, int]] = {}
    for n, (step, change, prepared) in enumerate(STEPS):
        for side in (cached, plain):
            change(side / "guides")
        now = NOW + 100 * n
        report = _build(cached / "guides", cached / "out", Cache.under(cached / "out"), now, 2)
        _build(plain / "guides", plain / "out", Cache(None), now, 1)
        assert report.prepared == prepared, step
        assert report.reused == len(resolve([cached / "guides"]).guides) - prepared, step
        got = _files(cached / "guides", cached / "out")
        assert got == _files(plain / "guides", plain / "out"), step
        notes = {p.output.name: sum(sum(g.counts.values()) for g in p.guides)
                 for p in report.packages}  # fmt: skip
        for name, data in got.items():
            if name[4:] in notes:  # a deck of this build (not one left by a gone guide)
                decks[hashlib.sha256(data).hexdigest()] = (data, notes[name[4:]])
    assert len(decks) > 5
    for n, (data, count) in enumerate(decks.values()):
        apkg = tmp_path / "decks" / f"{n}.apkg"
        apkg.parent.mkdir(exist_ok=True)
        apkg.write_bytes(data)
        col = fresh_collection(tmp_path / f"anki-{n}")
        try:
            assert_healthy_import(col, import_package(col, apkg), count)
        finally:
            col.close()


def test_a_rebuild_without_edits_rewrites_nothing(tmp_path: Path) -> None:
    folder, out = tmp_path / "guides", tmp_path / "out"
    _setup(folder)
    _build(folder, out, Cache.under(out), NOW, 1)
    before = {p: p.stat().st_mtime_ns for p in [*out.glob("*.apkg"), *folder.glob("*.lock")]}
    report = _build(folder, out, Cache.under(out), NOW + 60, 1)
    assert all(p.unchanged and p.written for p in report.packages)
    assert report.prepared == 0
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # the cache tells git and backup tools to leave it alone
    assert (out / CACHE_DIR / ".gitignore").read_text() == "*\n"
    assert (out / CACHE_DIR / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d")


def _two_packages(folder: Path, tags: str) -> None:
    (folder / "decks.yaml").write_text(
        "version: 1\ndefaults:\n  deck_prefix: Prep\npackages:\n"
        f"  - guides: [tables.md]\n    output: a.apkg\n    tags: [{tags}]\n"
        "  - guides: [quick_check.md]\n    output: b.apkg\n",
        encoding="utf-8",
    )


def test_a_configuration_change_invalidates_only_its_package(tmp_path: Path) -> None:
    folder, out = tmp_path / "src", tmp_path / "out"
    folder.mkdir()
    for name in ("tables.md", "quick_check.md"):
        shutil.copyfile(FIXTURES / "parse" / name, folder / name)
    _two_packages(folder, "first")
    _build(folder, out, Cache.under(out), NOW, 1)
    b_before = (out / "b.apkg").stat().st_mtime_ns
    _two_packages(folder, "second")
    report = _build(folder, out, Cache.under(out), NOW + 60, 1)
    assert (report.prepared, report.reused) == (1, 1)
    assert [p.unchanged for p in report.packages] == [False, True]
    assert (out / "b.apkg").stat().st_mtime_ns == b_before
    col = fresh_collection(tmp_path / "anki")
    try:
        count = sum(report.packages[0].guides[0].counts.values())
        assert_healthy_import(col, import_package(col, out / "a.apkg"), count)
        assert len(col.find_notes("tag:second")) == count > 0
    finally:
        col.close()


def test_a_template_change_invalidates_every_guide_and_deck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, out = tmp_path / "guides", tmp_path / "out"
    _setup(folder)
    _build(folder, out, Cache.under(out), NOW, 1)
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    with (templates / "style.css").open("a", encoding="utf-8") as css:
        css.write("\n.gd-cache-test { color: teal; }\n")
    import guidedeck.cache
    import guidedeck.notetypes

    for module in (guidedeck.cache, guidedeck.notetypes):
        monkeypatch.setattr(module, "data_dir", lambda name: templates)
    for cached in (fingerprint, guidedeck.notetypes.stylesheet, guidedeck.notetypes.design):
        cached.cache_clear()
    try:
        report = _build(folder, out, Cache.under(out), NOW + 60, 1)
        assert report.reused == 0 and report.prepared == 5
        assert not any(p.unchanged for p in report.packages)
        col = fresh_collection(tmp_path / "anki")
        try:
            (tables,) = [p for p in report.packages if p.output.name == "tables.apkg"]
            count = sum(tables.guides[0].counts.values())
            assert_healthy_import(col, import_package(col, out / "tables.apkg"), count)
            ours = [m for m in col.models.all() if m["name"].startswith("guidedeck")]
            assert ours and all(".gd-cache-test" in m["css"] for m in ours)
        finally:
            col.close()
    finally:
        monkeypatch.undo()
        for cached in (fingerprint, guidedeck.notetypes.stylesheet, guidedeck.notetypes.design):
            cached.cache_clear()


def test_a_damaged_cache_is_only_a_miss(tmp_path: Path) -> None:
    folder, out = tmp_path / "guides", tmp_path / "out"
    _setup(folder)
    _build(folder, out, Cache.under(out), NOW, 1)
    first = _files(folder, out)
    entries = sorted((out / CACHE_DIR).rglob("*.json"))
    assert entries
    for n, entry in enumerate(entries):
        data = entry.read_bytes()
        # cut short, flipped inside the packed value, or emptied
        entry.write_bytes([data[: len(data) // 2], data[:-8] + b"\0" * 8, b""][n % 3])
    report = _build(folder, out, Cache.under(out), NOW, 1)
    assert report.prepared > 0
    assert _files(folder, out) == first


def test_a_dry_run_writes_no_cache(tmp_path: Path) -> None:
    folder, out = tmp_path / "guides", tmp_path / "out"
    _setup(folder)
    inputs = resolve([folder])
    build(inputs.packages, out, dry_run=True, now=NOW,
          cache=Cache.under(out, writable=False))  # fmt: skip
    assert not (out / CACHE_DIR).exists()


LOADED = """
import sys
from guidedeck.entry import run
# one process: what preparing loads, it loads here
sys.argv = ["guidedeck", "build", sys.argv[1], "--out", sys.argv[2], "-j", "1"]
try:
    run()
except SystemExit as done:
    assert done.code == 0, done.code
print(sorted(m for m in ("markdown_it", "nh3", "guidedeck.parse") if m in sys.modules))
"""


def test_a_rebuild_from_the_cache_never_loads_the_parser(tmp_path: Path) -> None:
    folder, out = tmp_path / "guides", tmp_path / "out"
    _setup(folder)
    first = subprocess.run([sys.executable, "-c", LOADED, str(folder), str(out)],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert first.stdout.splitlines()[-1] == "['guidedeck.parse', 'markdown_it', 'nh3']"
    again = subprocess.run([sys.executable, "-c", LOADED, str(folder), str(out)],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert again.stdout.splitlines()[-1] == "[]", again.stderr


def test_a_cache_deleted_during_a_build_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guides from the cache are not held until written: they are read again from it, and
    prepared again if it is gone meanwhile; a guide that changed meanwhile is not written."""
    import guidedeck.commit

    folder, out = tmp_path / "guides", tmp_path / "out"
    _setup(folder)
    _build(folder, out, Cache.under(out), NOW, 1)
    _edit_row(folder)
    plain = tmp_path / "plain"
    shutil.copytree(folder, plain / "guides")
    shutil.copytree(out, plain / "out")
    _build(plain / "guides", plain / "out", Cache(None), NOW + 60, 1)
    matched = guidedeck.commit.match_across

    def delete_cache(*args: object) -> None:
        shutil.rmtree(out / CACHE_DIR)
        matched(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(guidedeck.commit, "match_across", delete_cache)
    report = _build(folder, out, Cache.under(out), NOW + 60, 1)
    assert report.reused == 4
    assert _files(folder, out) == _files(plain / "guides", plain / "out")

    monkeypatch.undo()
    assert _build(folder, out, Cache.under(out), NOW + 60, 1).prepared == 5  # the cache again
    before = _files(folder, out)

    def delete_and_edit(*args: object) -> None:
        shutil.rmtree(out / CACHE_DIR)
        (folder / "tables.md").write_text("# Changed meanwhile\n", encoding="utf-8")
        matched(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(guidedeck.commit, "match_across", delete_and_edit)
    # nothing changed since the last build, which would skip the whole pipeline (and this
    # hook): without its state, the build runs in full, as after any edit
    shutil.rmtree(out / CACHE_DIR / "state")
    inputs = resolve([folder])
    report = build(inputs.packages, out, roots=inputs.roots, now=NOW + 120,
                   cache=Cache.under(out), jobs=1)  # fmt: skip
    (tables,) = [p for p in report.packages if p.output.name == "tables.apkg"]
    assert not tables.written
    assert any("changed during the build" in d.message for d in tables.problems)
    assert _files(folder, out) == before  # the other decks were unchanged: nothing rewritten
