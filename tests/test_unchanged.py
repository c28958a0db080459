"""A build with nothing to do (issue #28): when nothing it would read changed since the last
build, its report comes from the state that build kept, and nothing else is read. It must say
exactly what a full build with nothing changed says, and any change must run the build in full.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import assert_every_deck_imports
from tests.conftest import FIXTURES, ROOT
from tests.test_media import GUIDE as IMAGE_GUIDE
from tests.test_media import png

CORPUS = ROOT.parent / "shared" / "corpus"
QUIET = "nothing changed since the last build"
IMPORTED: set[str] = set()
"""Digests of the decks these tests built and imported into Anki's engine (each once)."""


def _imports(out: Path, work: Path) -> None:
    """Every deck in ``out`` imported into a fresh collection, every card rendered."""
    assert_every_deck_imports(sorted(out.glob("*.apkg")), work, IMPORTED)


def _build(folder: Path, out: Path, *extra: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["build", str(folder), "--out", str(out), *extra])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def _said(lines: list[str]) -> list[str]:
    """What a build says, but for how long it took and where its results came from."""
    out = []
    for line in lines:
        if " package(s) " in line and " in " in line:
            line = line[: line.rindex(" in ")]
        out.append(line)
    return out


def _guides(folder: Path) -> Path:
    """Guides with warnings, images and a file that makes no card."""
    folder.mkdir(parents=True)
    for name in ("tables.md", "quick_check.md", "contrasts.md"):
        shutil.copyfile(FIXTURES / "parse" / name, folder / name)
    shutil.copyfile(ROOT / "deck_source" / "backend-basics.md", folder / "backend-basics.md")
    (folder / "img").mkdir()
    (folder / "diagrams.md").write_text(IMAGE_GUIDE, encoding="utf-8")
    (folder / "img" / "dns.png").write_bytes(png((200, 0, 0)))
    (folder / "img" / "tls.png").write_bytes(png((0, 0, 200)))
    (folder / "notes.md").write_text("# Notes\n\nNothing to ask here.\n", encoding="utf-8")
    return folder


LAYOUTS: dict[str, Callable[[Path], Path]] = {
    "fixtures": _guides,
    "corpus": lambda f: shutil.copytree(CORPUS, f, ignore=shutil.ignore_patterns("README.md")),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_build_with_nothing_to_do_says_what_a_full_build_says(
    tmp_path: Path, layout: str
) -> None:
    if layout == "corpus" and not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    folder, out = LAYOUTS[layout](tmp_path / "guides"), tmp_path / "out"
    first, _lines = _build(folder, out)
    code, full = _build(folder, out, "--no-cache")  # nothing changed: the whole pipeline
    assert QUIET not in "\n".join(full)
    quiet_code, quiet = _build(folder, out)
    assert QUIET in "\n".join(quiet), "nothing changed, yet the build ran in full"
    assert (quiet_code, _said(quiet)) == (code, _said(full)) == (first, _said(full))
    _imports(out, tmp_path / "anki")
    assert any("warning" in line for line in full) or layout == "corpus"


def _touch(path: Path) -> None:
    path.write_bytes(path.read_bytes())  # a checkout rewriting a file: same bytes, new mtime


CHANGES: dict[str, tuple[Callable[[Path, Path], object], bool]] = {
    "a guide edited": (
        lambda g, o: (g / "tables.md").write_text(
            (g / "tables.md").read_text() + "\n| one | more | row |\n"
        ),
        False,
    ),
    "a guide rewritten with the same bytes": (lambda g, o: _touch(g / "tables.md"), True),
    "a guide added": (
        lambda g, o: (g / "more.md").write_bytes((g / "quick_check.md").read_bytes()),
        False,
    ),
    "a guide removed": (lambda g, o: (g / "contrasts.md").unlink(), False),
    "an image changed": (lambda g, o: (g / "img" / "dns.png").write_bytes(png((0, 200, 0))), False),
    "a lock file lost": (lambda g, o: (g / "tables.guidedeck.lock").unlink(), False),
    "a lock file edited": (
        lambda g, o: (g / "tables.guidedeck.lock").write_text(
            (g / "tables.guidedeck.lock").read_text().replace('"mtime"', '"mtime" ', 1)
        ),
        False,
    ),
    "a lock file of another guide added": (
        lambda g, o: (
            (g / "sub").mkdir()
            or shutil.copy(g / "tables.guidedeck.lock", g / "sub" / "gone.guidedeck.lock")
        ),
        False,
    ),
    "a deck deleted": (lambda g, o: (o / "tables.apkg").unlink(), False),
    "a deck rewritten with the same bytes": (lambda g, o: _touch(o / "tables.apkg"), True),
    "a deck replaced": (lambda g, o: shutil.copy(o / "contrasts.apkg", o / "tables.apkg"), False),
    "a colleague's deck placed beside": (
        lambda g, o: shutil.copy(o / "tables.apkg", o / "colleague.apkg"),
        False,
    ),
    "decks.yaml written": (
        lambda g, o: (g / "decks.yaml").write_text(
            "packages:\n  - guides: ['*.md']\n    tags: [again]\n"
        ),
        False,
    ),
    "the state deleted": (lambda g, o: shutil.rmtree(o / ".guidedeck-cache" / "state"), False),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_runs_the_build_in_full(tmp_path: Path, change: str) -> None:
    folder, out = _guides(tmp_path / "guides"), tmp_path / "out"
    assert _build(folder, out)[0] == 0
    assert QUIET in "\n".join(_build(folder, out)[1])
    act, still_quiet = CHANGES[change]
    act(folder, out)
    twin = tmp_path / "twin"  # the same files, built by the whole pipeline
    shutil.copytree(folder, twin / "guides")
    shutil.copytree(out, twin / "out", ignore=shutil.ignore_patterns(".guidedeck-cache"))
    code, lines = _build(folder, out)
    assert (QUIET in "\n".join(lines)) == still_quiet, lines
    full_code, full = _build(twin / "guides", twin / "out", "--no-cache")
    full = [ln.replace(str(twin / "guides"), str(folder)).replace(str(twin / "out"), str(out))
            for ln in full]  # fmt: skip
    assert (code, _said(lines)) == (full_code, _said(full))
    _imports(out, tmp_path / "anki")


def test_strict_is_another_build(tmp_path: Path) -> None:
    folder, out = _guides(tmp_path / "guides"), tmp_path / "out"
    assert _build(folder, out)[0] == 0
    code, lines = _build(folder, out, "--strict")  # the warnings now stop it
    assert code == 1 and QUIET not in "\n".join(lines)
    assert "not written" in "\n".join(lines)


AUDIT = """
import sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].endswith((".md", ".apkg", ".lock")):
        opened.append(args[0])
sys.addaudithook(hook)
sys.argv = ["guidedeck", "build", sys.argv[1], "--out", sys.argv[2]]
from guidedeck.entry import run
try:
    run()
except SystemExit as done:
    assert done.code == 0, done.code
loaded = sorted(m for m in ("markdown_it", "genanki", "guidedeck.commit", "guidedeck.memory")
                if m in sys.modules)
print(repr((opened, loaded)))
"""


def test_a_build_with_nothing_to_do_opens_no_guide_deck_or_lock(tmp_path: Path) -> None:
    folder, out = _guides(tmp_path / "guides"), tmp_path / "out"
    # guides listed in decks.yaml (as `guidedeck init` writes it): no folder is scanned, where
    # telling a folder of one-question files from a folder of guides peeks at a small file
    (folder / "decks.yaml").write_text(
        "packages:\n  - guides: [tables.md, quick_check.md, contrasts.md, diagrams.md]\n"
    )
    assert _build(folder, out)[0] == 0
    done = subprocess.run([sys.executable, "-c", AUDIT, str(folder), str(out)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    opened, loaded = eval(done.stdout.splitlines()[-1])  # our own child's repr
    assert QUIET in done.stdout
    assert opened == [] and loaded == [], (opened, loaded)
    _imports(out, tmp_path / "anki")


# --- a package left as it was, beside an edited one -----------------------------------------------


def _stage_counts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The guides whose notes a build makes anew (each call of the identity allocator)."""
    from guidedeck.identities import Identities

    made: list[str] = []
    notes_of = Identities.notes_of

    def counted(self: Identities, work: object, prepared: object, deck: str) -> object:
        made.append(work.path.name)  # type: ignore[attr-defined]
        return notes_of(self, work, prepared, deck)  # type: ignore[arg-type]

    monkeypatch.setattr(Identities, "notes_of", counted)
    return made


def _decks_and_locks(guides: Path, out: Path) -> dict[str, bytes]:
    return {**{f"out/{p.name}": p.read_bytes() for p in sorted(out.glob("*.apkg"))},
            **{f"guides/{p.relative_to(guides)}": p.read_bytes()
               for p in sorted(guides.rglob("*.guidedeck.lock"))}}  # fmt: skip


ROW = "| Standard | milliseconds | high |"
"""A fact of tables.md's storage-class table."""


def _move_row(g: Path) -> None:
    """A table row leaves tables.md (two builds later it comes back in another guide)."""
    text = (g / "tables.md").read_text(encoding="utf-8")
    assert ROW + "\n" in text
    (g / "tables.md").write_text(text.replace(ROW + "\n", ""), encoding="utf-8")


def _elsewhere(g: Path, *rows: str) -> None:
    table = "| Class | Latency | Cost |\n|---|---|---|\n" + "".join(f"{r}\n" for r in rows)
    (g / "elsewhere.md").write_text(f"# Elsewhere\n\n## Storage Classes\n\n{table}")


OTHER_ROW = "| Glacier | minutes | low |"


def _row_comes_back_elsewhere(g: Path) -> None:
    _elsewhere(g, OTHER_ROW, ROW)  # a guide of the same build: the other packages stay as left


HISTORY: list[tuple[str, Callable[[Path], object], set[str] | None]] = [
    (
        "first build",
        lambda g: _elsewhere(g, OTHER_ROW),
        {
            "tables.md",
            "quick_check.md",
            "contrasts.md",
            "backend-basics.md",
            "diagrams.md",
            "elsewhere.md",
        },
    ),
    (
        "one guide edited",
        lambda g: (g / "quick_check.md").write_text(
            (g / "quick_check.md").read_text().replace("?", "? ", 1)
        ),
        {"quick_check.md"},
    ),
    ("a row removed", _move_row, {"tables.md"}),
    ("nothing", lambda g: None, set()),
    # the other guide takes over the note tables.md lost: tables.md's lock changes with it
    (
        "the row comes back in another guide",
        _row_comes_back_elsewhere,
        {"elsewhere.md", "tables.md"},
    ),
    ("an image changed", lambda g: (g / "img" / "tls.png").write_bytes(png((1, 2, 3))), None),
]
"""Each step, and the guides whose notes the build must make anew (None: whichever it must;
the files are compared with a full build either way)."""


def _api_build(folder: Path, out: Path, cached: bool, now: int) -> list[tuple[object, ...]]:
    """Build through the API (its ``now`` fixed, as two workspaces need to compare bytes); what
    its report says of each guide."""
    from guidedeck.build import build
    from guidedeck.cache import Cache
    from guidedeck.inputs import resolve

    inputs = resolve([folder])
    cache = Cache.under(out) if cached else Cache(None)
    report = build(inputs.packages, out, roots=inputs.roots, now=now, cache=cache)
    assert not report.failed
    return [(g.path.name, sorted(g.counts.items()), sorted(g.status.items()),
             sorted(e.guid for e in g.removed), sorted(e.guid for e in g.removed_before))
            for p in report.packages for g in p.guides]  # fmt: skip


def test_packages_left_as_they_were_match_a_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stage_counts(monkeypatch)
    quick, full = tmp_path / "quick", tmp_path / "full"
    for folder in (quick, full):
        _guides(folder / "guides")
    for n, (step, change, expected) in enumerate(HISTORY):
        for folder in (quick, full):
            change(folder / "guides")
        made.clear()
        now = 1_790_000_000 + 100 * n
        said = _api_build(quick / "guides", quick / "out", True, now)
        anew = {m for m in made if m != "notes.md"}
        assert said == _api_build(full / "guides", full / "out", False, now), step
        got = _decks_and_locks(quick / "guides", quick / "out")
        assert got == _decks_and_locks(full / "guides", full / "out"), step
        if expected is not None:
            assert anew == expected, (step, anew)
        _imports(quick / "out", tmp_path / f"anki-{n}")
