"""What comes with a repository is data, never code or a licence to write elsewhere (issue #23).

Each test lays out what a stranger's repository could hold (a committed build cache, a commit
journal, a poisoned lock line ...) and checks that guidedeck neither runs, reads, moves, deletes
nor rewrites anything it should not.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import shutil
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cache import CACHE_DIR, FORMAT, Cache, guide_key
from guidedeck.cli import main
from guidedeck.ownership import MARK, RECORD, digest, mark
from tests.anki_engine import assert_every_deck_imports
from tests.conftest import FIXTURES, copy_guides

GUIDES = [FIXTURES / "parse" / name for name in ("tables.md", "quick_check.md")]


def _run(*args: str) -> str:
    """The command's output; the decks a build wrote are imported into Anki and rendered."""
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 0, result.output
    if args[0] == "build" and "--out" in args:
        out = Path(args[args.index("--out") + 1])
        assert_every_deck_imports(sorted(out.glob("*.apkg")), out.parent / ".anki", _IMPORTED)
    return result.output


_IMPORTED: set[str] = set()
"""Digests of the decks imported already (each distinct deck once)."""


class _Payload:
    """Unpickling this creates ``marker``: what a committed cache entry could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _crafted_entry(guide: Path, marker: Path) -> bytes:
    """An entry in the form an unsigned cache accepted: its key is a digest of public inputs."""
    data = guide.read_bytes()
    _slot, key = guide_key(guide, data, (("quiz", "fact", "contrast", "scenario"), (), False,
                                         False, "auto"))  # fmt: skip
    packed = zlib.compress(pickle.dumps(_Payload(marker)), 1)
    checksum = hashlib.sha256(packed).hexdigest().encode()
    return FORMAT + key.encode() + b"\n{}\n" + checksum + b"\n" + packed


def test_a_committed_cache_entry_runs_no_code(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    guides = copy_guides(clone, *GUIDES)
    marker = tmp_path / "PWNED"
    for guide in guides:
        options = (("quiz", "fact", "contrast", "scenario"), (), False, False, "auto")
        slot, _key = guide_key(guide, guide.read_bytes(), options)
        folder = clone / "build" / CACHE_DIR / "guides"
        folder.mkdir(parents=True, exist_ok=True)
        for name in (f"{slot}.pickle", f"{slot}.json"):  # the old name and the new
            (folder / name).write_bytes(_crafted_entry(guide, marker))
    _run("check", str(clone), "--out", str(clone / "build"))
    _run("build", str(clone), "--out", str(clone / "build"))
    assert not marker.exists()


def test_a_cache_copied_from_elsewhere_is_never_read(tmp_path: Path) -> None:
    """A cache committed to a repository (or copied) is all misses: its entries are signed with
    a key bound to the file that holds it on the machine that wrote it."""
    first = tmp_path / "first"
    copy_guides(first, *GUIDES)
    _run("build", str(first), "--out", str(first / "build"))
    again = Cache.under(first / "build")
    assert again.root is not None and (again.root / "KEY").is_file()
    clone = tmp_path / "clone"
    shutil.copytree(first, clone)
    output = _run("build", str(clone), "--out", str(clone / "build"))
    assert "from the cache" not in output  # every guide prepared again
    assert "nothing changed since the last build" not in output  # nor the copied state trusted
    output = _run("build", str(clone), "--out", str(clone / "build"))
    assert "nothing changed since the last build" in output  # its own cache, rebuilt, is used


def test_a_symlinked_cache_folder_is_not_followed(tmp_path: Path) -> None:
    """A committed ``build/.guidedeck-cache`` that links elsewhere (``$HOME``) is neither
    written to nor pruned."""
    home = tmp_path / "home"
    (home / "guides").mkdir(parents=True)
    old = home / "guides" / ("0" * 32 + ".json")
    old.write_text("the user's own file")
    month_ago = time.time() - 60 * 86_400
    os.utime(old, (month_ago, month_ago))
    clone = tmp_path / "clone"
    copy_guides(clone, *GUIDES)
    (clone / "build").mkdir()
    (clone / "build" / CACHE_DIR).symlink_to(Path("..") / ".." / "home")
    for _ in range(2):
        _run("build", str(clone), "--out", str(clone / "build"))
    assert sorted(p.name for p in home.rglob("*")) == sorted(["guides", old.name])
    assert old.read_text() == "the user's own file"


@pytest.mark.parametrize("linked", ["guides", "decks"])
def test_a_symlinked_folder_inside_the_cache_is_not_followed(tmp_path: Path, linked: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clone = tmp_path / "clone"
    copy_guides(clone, *GUIDES)
    _run("build", str(clone), "--out", str(clone / "build"))
    inner = clone / "build" / CACHE_DIR / linked
    shutil.rmtree(inner)
    inner.symlink_to(elsewhere)
    (clone / "tables.md").write_text((clone / "tables.md").read_text() + "\nMore.\n")
    _run("build", str(clone), "--out", str(clone / "build"))
    assert list(elsewhere.iterdir()) == []


def test_a_committed_journal_moves_nothing_it_should_not(tmp_path: Path) -> None:
    """``build/.guidedeck-commit.json`` is a claim, not an order: a journal that names files of
    the repository, files outside it, or a lock file of no guide of this build finishes
    nothing, even on ``check``."""
    from guidedeck.transaction import JOURNAL

    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("the user's shell\n")
    clone = tmp_path / "clone"
    guides = copy_guides(clone, *GUIDES)
    out = clone / "build"
    out.mkdir()
    (out / ".tables.apkg.abc.tmp").write_bytes(b"a deck")
    (clone / ".other.guidedeck.lock.abc.tmp").write_text("a lock")
    pairs = [
        [str(guides[0]), str(home / ".bashrc")],  # a guide over the user's file
        [str(guides[1]), str(out / "quick_check.apkg")],  # not a temporary file
        [str(out / ".tables.apkg.abc.tmp"), str(home / "tables.apkg")],  # out of the folder
        [str(clone / ".other.guidedeck.lock.abc.tmp"), str(clone / "other.guidedeck.lock")],
        ["relative.tmp", "relative.apkg"],
    ]
    (out / JOURNAL).write_text(json.dumps(pairs))
    before = {p: p.read_bytes() for p in [*guides, home / ".bashrc"]}
    _run("check", str(clone), "--out", str(out))
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in home.iterdir()) == [".bashrc"]
    assert not (clone / "other.guidedeck.lock").exists()
    assert not (out / JOURNAL).exists()


POISON = '"><img src=x onerror=alert(1)>'


def test_a_poisoned_lock_id_is_refused_where_it_stands(tmp_path: Path) -> None:
    """A committed lock line whose ``ID`` would close the template's attribute is an error of
    that line: nothing is built from it, and no markup reaches a card."""
    import re

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    out = clone / "build"
    _run("build", str(clone), "--out", str(out))
    lock = clone / "quick_check.guidedeck.lock"
    lines = lock.read_text().splitlines()
    record = json.loads(lines[1])
    record["id"] = POISON
    lines[1] = json.dumps(record)
    lock.write_text("\n".join(lines) + "\n")
    before = (out / "quick_check.apkg").read_bytes()
    result = CliRunner().invoke(main, ["build", str(clone), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(rf"{re.escape(str(lock))}:2:1: error: line 2 .*'id'", result.output)
    assert (out / "quick_check.apkg").read_bytes() == before


def test_a_deck_whose_ids_hold_markup_is_not_memory(tmp_path: Path) -> None:
    """A crafted deck in the output folder is reported and ignored; its IDs reach no card."""
    from guidedeck.memory import read_deck

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    out = clone / "build"
    _run("build", str(clone), "--out", str(out))
    (clone / "quick_check.guidedeck.lock").unlink()  # the deck is the only memory left
    # its first note's ID rewritten (the fields after the first kept)
    _rewrite_notes(out / "quick_check.apkg",
                   "update notes set flds = ? || substr(flds, instr(flds, char(31))) "
                   "where id = (select min(id) from notes)", POISON)  # fmt: skip
    output = CliRunner().invoke(main, ["build", str(clone), "--out", str(out)]).output
    assert "quick_check.apkg:1:1: warning: not a deck guidedeck wrote (a note's ID is" in output
    assert all(POISON not in n.fields["ID"] for n in read_deck(out / "quick_check.apkg"))


def _rewrite_notes(deck: Path, sql: str, *params: object) -> None:
    """The deck as a stranger could ship it: ``sql`` run on its collection, and the output
    folder's record of its decks rewritten to match (a committed ``build/``)."""
    import sqlite3
    import zipfile

    with zipfile.ZipFile(deck) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    db = deck.with_suffix(".anki2")
    db.write_bytes(members["collection.anki2"])
    conn = sqlite3.connect(db)
    conn.execute(sql, params)
    conn.commit()
    conn.close()
    members["collection.anki2"] = db.read_bytes()
    db.unlink()
    with zipfile.ZipFile(deck, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    record = deck.parent / RECORD
    shipped = json.loads(record.read_text())
    shipped["decks"][deck.name] = digest(deck.read_bytes())
    record.write_text(json.dumps(shipped))


@pytest.mark.parametrize("made_by", ["another user", "a symbolic link", "open to all"])
def test_a_lock_folder_someone_else_made_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_by: str
) -> None:
    """The builds' lock folder has a predictable name in the shared temporary folder: one made
    by someone else is refused with a message, never used."""
    import getpass

    shared = tmp_path / "tmp"
    shared.mkdir()
    monkeypatch.setenv("TMPDIR", str(shared))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    where = shared / f"guidedeck-locks-{getpass.getuser()}"
    if made_by == "a symbolic link":
        (tmp_path / "theirs").mkdir(mode=0o700)
        where.symlink_to(tmp_path / "theirs")
    else:
        where.mkdir(mode=0o700)
        if made_by == "open to all":
            where.chmod(0o777)
        elif os.getuid() == 0:
            os.chown(where, 12345, 12345)
        else:
            pytest.skip("only root can make a folder another user owns")
    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    result = CliRunner().invoke(main, ["build", str(clone), "--out", str(clone / "build")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{where} (where builds take their locks) is not a folder of yours" in result.output
    assert not (clone / "build").exists()
    assert list((tmp_path / "theirs").iterdir() if made_by == "a symbolic link" else []) == []


def _deck_with(out: Path, name: str, make: object) -> Path:
    """A deck file in ``out`` whose collection ``make(conn)`` fills."""
    import sqlite3
    import zipfile

    db = out / f"{name}.anki2"
    conn = sqlite3.connect(db)
    conn.execute("create table col (decks text)")
    conn.execute("insert into col values ('{}')")
    conn.execute("create table cards (nid integer, did integer)")
    make(conn)  # type: ignore[operator]
    conn.commit()
    conn.close()
    deck = out / f"{name}.apkg"
    with zipfile.ZipFile(deck, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(db, "collection.anki2")
        archive.writestr(MARK, mark(deck.name))  # a stranger can mark a deck as guidedeck does
    db.unlink()
    return deck


def test_a_deck_whose_notes_are_an_endless_view_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    out = clone / "build"
    out.mkdir()

    def endless(conn: object) -> None:
        conn.execute(  # type: ignore[attr-defined]
            "create view notes as with recursive r(x) as (select 1 union all select x + 1 "
            "from r) select x as id, 'g' as guid, 1 as mid, 0 as mod, '' as flds, '' as tags "
            "from r"
        )

    _deck_with(out, "quick_check", endless)
    command = [sys.executable, "-m", "guidedeck", "check", str(clone), "--out", str(out)]
    # a guard, not a measure: on the previous main this never ended
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "quick_check.apkg:1:1: warning: not a deck guidedeck wrote (its notes" in done.stderr


def test_a_zip_bomb_in_the_output_folder_costs_little_memory(tmp_path: Path) -> None:
    import tracemalloc
    import zipfile

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    out = clone / "build"
    out.mkdir()
    bomb = out / "quick_check.apkg"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("collection.anki2", "w", force_zip64=True) as handle,
    ):
        for _ in range(511):
            handle.write(bytes(1024 * 1024))
    with zipfile.ZipFile(bomb, "a") as archive:
        archive.writestr(MARK, mark(bomb.name))
    assert (out / "quick_check.apkg").stat().st_size < 1024 * 1024
    tracemalloc.start()
    try:
        result = CliRunner().invoke(main, ["check", str(clone), "--out", str(out)])
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    assert "not a deck guidedeck wrote (its collection is too large)" in result.output
    assert peak < 128 * 1024 * 1024


def test_decks_yaml_reads_no_guide_outside_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (secret,) = copy_guides(outside, GUIDES[0])
    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    (clone / "decks.yaml").write_text(
        "version: 1\npackages:\n  - guides: [quick_check.md]\n"
        "  - guides: [../outside/tables.md]\n    output: a.apkg\n"
        f"  - guides: ['{secret}']\n    output: b.apkg\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["build", str(clone), "--out", str(clone / "build")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    for line, name in ((4, "../outside/tables.md"), (6, str(secret))):
        assert (
            f"decks.yaml:{line}:" in result.output
            and f"guide {name!r} is outside the folder of decks.yaml" in result.output
        ), result.output
    assert sorted(p.name for p in outside.iterdir()) == ["tables.md"]  # no lock beside it
    assert not (clone / "build").exists()


def test_an_image_outside_the_project_is_not_packaged(tmp_path: Path) -> None:
    from tests.test_media import png

    private = tmp_path / "private"
    private.mkdir()
    (private / "photo.png").write_bytes(png((1, 2, 3)))
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "guide.md").write_text(
        "# Pictures\n\n| Step | Picture |\n|---|---|\n"
        "| Relative | ![a](../private/photo.png) |\n"
        f'| Absolute | <img src="{private / "photo.png"}" alt="b"> |\n',
        encoding="utf-8",
    )
    output = _run("build", str(clone), "--out", str(clone / "build"))
    for src in ("../private/photo.png", str(private / "photo.png")):
        assert f"image {src!r} is outside {clone}; not shown" in output, output
    import zipfile

    with zipfile.ZipFile(clone / "build" / "guide.apkg") as archive:
        assert json.loads(archive.read("media")) == {}


def test_a_repointed_image_link_is_a_new_picture(tmp_path: Path) -> None:
    """The cache keeps an image by the path the guide writes: re-point a link and the cached
    build shows the new picture."""
    import zipfile

    from tests.test_media import png

    clone = tmp_path / "clone"
    (clone / "img").mkdir(parents=True)
    (clone / "img" / "red.png").write_bytes(png((255, 0, 0)))
    (clone / "img" / "blue.png").write_bytes(png((0, 0, 255)))
    (clone / "img" / "logo.png").symlink_to("red.png")
    (clone / "guide.md").write_text(
        "# Logos\n\n| Name | Logo |\n|---|---|\n| Ours | ![logo](img/logo.png) |\n"
        "| Theirs | none |\n",
        encoding="utf-8",
    )
    out = clone / "build"

    def packaged() -> set[bytes]:
        _run("build", str(clone), "--out", str(out))
        with zipfile.ZipFile(out / "guide.apkg") as archive:
            names = json.loads(archive.read("media"))
            return {archive.read(number) for number in names}

    assert packaged() == {png((255, 0, 0))}
    (clone / "img" / "logo.png").unlink()
    (clone / "img" / "logo.png").symlink_to("blue.png")
    assert packaged() == {png((0, 0, 255))}


def test_a_lock_saved_with_a_byte_order_mark_reads_like_a_clean_one(tmp_path: Path) -> None:
    from guidedeck.lockfile import read_lock

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    _run("build", str(clone), "--out", str(clone / "build"))
    lock = clone / "quick_check.guidedeck.lock"
    before, _text = read_lock(lock)
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes())
    output = _run("build", str(clone), "--out", str(clone / "build"))
    assert "error" not in output
    after, _text = read_lock(lock)
    assert {(e.id, e.guid) for e in after.notes} == {(e.id, e.guid) for e in before.notes}


@pytest.mark.parametrize(
    "body",
    [
        '{"version": 1, "notetypes": []}',
        '{"version": 1, "guides": {"a.md": []}}',
        '{"version": 1, "guides": {"a.md": {"notes": {}}}}',
    ],
)
def test_a_malformed_version_1_lock_is_a_located_error(tmp_path: Path, body: str) -> None:
    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    lock = clone / "quick_check.guidedeck.lock"
    lock.write_text(json.dumps(json.loads(body), indent=2))  # version 1 was pretty-printed
    result = CliRunner().invoke(main, ["build", str(clone), "--out", str(clone / "build")])
    assert result.exit_code == 1 and "internal error" not in result.output, result.output
    assert f"{lock}:1:1: error:" in result.output


SHARED_START = "In a distributed database with many replicas, which consistency model"


def _quiz(ending: str) -> str:
    return (
        f"### Quick Check\n\n**{SHARED_START} {ending}?**\n\n-> A. Strong\n   B. Eventual\n\n"
        "<details>\n<summary>See Answer</summary>\n\nBecause.\n\n</details>\n\n"
    )


def test_cards_born_on_two_branches_under_one_key_get_two_guids(tmp_path: Path) -> None:
    """Two branches each add a quiz whose question begins like the other's (their keys are
    equal): after a union merge of guide and lock, each user keeps their own note."""
    from guidedeck.lockfile import read_lock
    from guidedeck.memory import read_deck
    from tests.anki_engine import fresh_collection, import_package

    base = tmp_path / "base"
    copy_guides(base, GUIDES[1])
    _run("build", str(base), "--out", str(base / "build"))
    guids = {}
    for branch, ending in (("a", "keeps reads fresh"), ("b", "tolerates partitions")):
        shutil.copytree(base, tmp_path / branch)
        guide = tmp_path / branch / "quick_check.md"
        guide.write_text(guide.read_text() + "\n" + _quiz(ending))
        _run("build", str(tmp_path / branch), "--out", str(tmp_path / branch / "build"))
        notes = read_deck(tmp_path / branch / "build" / "quick_check.apkg")
        (new,) = [n for n in notes if ending in n.fields["Question"]]
        guids[branch] = new.guid
    assert guids["a"] != guids["b"]

    # the merge: both quizzes in the guide, both locks' lines kept (git's union driver)
    merged = tmp_path / "a"
    guide = merged / "quick_check.md"
    guide.write_text(guide.read_text() + "\n" + _quiz("tolerates partitions"))
    lock = merged / "quick_check.guidedeck.lock"
    theirs = (tmp_path / "b" / "quick_check.guidedeck.lock").read_text().splitlines()[1:]
    lock.write_text(lock.read_text() + "\n".join(theirs) + "\n")
    _run("build", str(merged), "--out", str(merged / "build"))
    after = {e.guid: e.id for e in read_lock(lock)[0].notes}
    assert guids["a"] in after and guids["b"] in after
    assert after[guids["a"]] != after[guids["b"]]  # two IDs as well
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, tmp_path / "b" / "build" / "quick_check.apkg")  # user b's notes
        import_package(col, merged / "build" / "quick_check.apkg")
        note = col.get_note(col.db.scalar("select id from notes where guid = ?", guids["b"]))
        assert "tolerates partitions" in note["Question"]  # still the question b reviewed
    finally:
        col.close()


def test_times_ahead_of_the_clock_are_never_copied_into_a_lock(tmp_path: Path) -> None:
    """A deck whose notes' mtimes lie ahead of the clock: the build clamps them, and the next
    build (and the one after) still runs."""

    from guidedeck.lockfile import FUTURE_SLACK, read_lock

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    out = clone / "build"
    _run("build", str(clone), "--out", str(out))
    lock = clone / "quick_check.guidedeck.lock"
    lock.unlink()  # the deck is the only memory
    ahead = int(time.time()) + 365 * 86_400
    _rewrite_notes(out / "quick_check.apkg", "update notes set mod = ?", ahead)
    for _ in range(2):
        _run("build", str(clone), "--out", str(out))
        # within what the lock reader accepts (the clock and another machine's slack)
        assert all(e.mtime <= time.time() + FUTURE_SLACK for e in read_lock(lock)[0].notes)


def test_list_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``guidedeck list guides | head`` ends without an internal error."""
    import subprocess
    import sys

    rows = "".join(f"| term {n} | meaning {n} |\n" for n in range(3_000))
    (tmp_path / "big.md").write_text(f"# Big\n\n## Terms\n\n| Term | Meaning |\n|---|---|\n{rows}")
    command = [sys.executable, "-m", "guidedeck", "list", str(tmp_path / "big.md")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.readline()
        child.stdout.close()  # as head does after its lines
        errors = child.stderr.read().decode()
        code = child.wait(timeout=60)
    assert "internal error" not in errors and "Traceback" not in errors, errors
    assert code == 0


def test_an_output_folder_under_a_file_is_said_plainly(tmp_path: Path) -> None:
    (guide,) = copy_guides(tmp_path, GUIDES[1])
    (tmp_path / "x.md").write_text("a file")
    result = CliRunner().invoke(main, ["build", str(guide), "--out", str(tmp_path / "x.md/out")])
    assert result.exit_code == 1 and "internal error" not in result.output
    assert f"output path is a file, not a folder ({tmp_path / 'x.md'} is a file)" in result.output


def test_a_tie_in_a_merged_lock_sends_the_merged_text_to_everyone(tmp_path: Path) -> None:
    """Two branches edit one row in the same second; after a union merge of the lock, the
    merged text must reach the user who imported the other side (Anki updates "if newer")."""
    from guidedeck.build import build
    from guidedeck.inputs import resolve
    from tests.anki_engine import fresh_collection, import_package

    base, now = tmp_path / "base", 1_790_000_000
    copy_guides(base, GUIDES[0])

    def built(folder: Path, at: int) -> None:
        inputs = resolve([folder])
        report = build(inputs.packages, folder / "build", roots=inputs.roots, now=at)
        assert not report.failed, report.diagnostics

    def edit_row(folder: Path, word: str) -> None:
        guide = folder / "tables.md"
        lines = guide.read_text().splitlines()
        row = next(n for n, line in enumerate(lines) if line.startswith("| Standard |"))
        lines[row] = lines[row].replace("high", f"high {word}")
        guide.write_text("\n".join(lines) + "\n")

    built(base, now)
    for branch, word in (("a", "ours"), ("b", "theirs")):
        shutil.copytree(base, tmp_path / branch)
        edit_row(tmp_path / branch, word)
        built(tmp_path / branch, now + 10)  # the same second on both machines
    merged = tmp_path / "a"  # the conflict resolved as "ours"; both locks' lines kept
    lock = merged / "tables.guidedeck.lock"
    theirs = (tmp_path / "b" / "tables.guidedeck.lock").read_text().splitlines()[1:]
    lock.write_text(lock.read_text() + "\n".join(theirs) + "\n")
    shutil.rmtree(merged / "build")  # user b's fresh clone of the merge: the lock is all it has
    built(merged, now + 20)
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, tmp_path / "b" / "build" / "tables.apkg")  # user b's side
        log = import_package(col, merged / "build" / "tables.apkg")
        assert len(log.updated) >= 1
        fields = [" ".join(col.get_note(n).fields) for n in col.find_notes('"note:guidedeck*"')]
        assert any("ours" in f for f in fields) and not any("theirs" in f for f in fields)
    finally:
        col.close()


def test_mdx_string_values_show_as_written(tmp_path: Path) -> None:
    """``options={["Array<string>", ...]}`` are JavaScript strings: the site shows them as text,
    and so must the card (a tag-like word was dropped by the sanitizer)."""
    from tests.anki_engine import fresh_collection, import_package

    guide = tmp_path / "types.md"
    quiz = [
        "<InterviewQuiz",
        '  question="Which type holds a list of names, not a Map<K, V>?"',
        '  options={["Array<string>", "Set<number>", "`Record<string, T>`"]}',
        "  correctAnswer={0}",
        '  explanation="An Array<string> keeps order & repeats; &amp; stays."',
        "/>",
    ]
    guide.write_text("# Types\n\n" + "\n".join(quiz) + "\n", encoding="utf-8")
    _run("build", str(guide), "--out", str(tmp_path / "out"))
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, tmp_path / "out" / "types.apkg")
        (nid,) = col.find_notes('"note:guidedeck Quiz"')
        card = col.get_note(nid).cards()[0]
        back = card.render_output().answer_text
    finally:
        col.close()
    text = re.sub(r"<[^>]+>", "", back)
    shown = ["Map&lt;K, V&gt;", "Array&lt;string&gt;", "Set&lt;number&gt;"]
    shown += ["Record&lt;string, T&gt;", "keeps order &amp; repeats; &amp;amp; stays"]
    for item in shown:
        assert item in text, (item, text)


def test_a_readme_without_a_title_is_named_alike_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built from its folder or from the one above, a titleless README.md is named after its
    folder: alternating the two must not rewrite its notes."""
    from guidedeck.memory import read_deck

    topic = tmp_path / "kubernetes"
    topic.mkdir()
    (topic / "README.md").write_text(
        "## Pods\n\n| Term | Meaning |\n|---|---|\n| Pod | a group of containers |\n"
        "| Node | a machine |\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    _run("build", "kubernetes/README.md", "--out", str(out))
    first = {(n.guid, n.mtime, n.deck) for n in read_deck(out / "kubernetes.apkg")}
    monkeypatch.chdir(topic)
    _run("build", "README.md", "--out", str(out))
    assert {(n.guid, n.mtime, n.deck) for n in read_deck(out / "kubernetes.apkg")} == first
    assert all("kubernetes" in deck for _guid, _mtime, deck in first)


def _only_the_deck_left(clone: Path) -> None:
    """The project as a clone of a repository with its ``build/`` committed: no lock, no
    record of the decks written, no cache."""
    (clone / "build" / RECORD).unlink()
    shutil.rmtree(clone / "build" / CACHE_DIR)
    (clone / "quick_check.guidedeck.lock").unlink()


def test_a_deck_from_elsewhere_is_memory_only_when_marked_for_its_file(tmp_path: Path) -> None:
    """Without a record of the decks written (a fresh clone of a repository that committed
    ``build/``), a deck counts as memory when guidedeck's mark names its file: its notes keep
    the GUIDs it holds though the lock is gone. The same deck without the mark is reported and
    not read."""
    import zipfile

    from guidedeck.memory import read_deck

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    out = clone / "build"
    _run("build", str(clone), "--out", str(out))
    deck = out / "quick_check.apkg"
    # a GUID only the deck knows (one a build never makes): kept only if the deck is read
    _rewrite_notes(deck, "update notes set guid = 'OnlyInDeck' where id = (select min(id) "
                         "from notes)")  # fmt: skip
    shipped = deck.read_bytes()
    _only_the_deck_left(clone)
    output = _run("build", str(clone), "--out", str(out))
    assert "warning:" not in output
    assert "OnlyInDeck" in {n.guid for n in read_deck(deck)}

    with zipfile.ZipFile(io.BytesIO(shipped)) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != MARK}
    with zipfile.ZipFile(deck, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _only_the_deck_left(clone)
    output = _run("build", str(clone), "--out", str(out))
    assert f"{deck}:1:1: warning: not a deck this build wrote (it carries no mark" in output
    assert "OnlyInDeck" not in {n.guid for n in read_deck(deck)}, "its notes were not read"


@pytest.mark.parametrize("command", ["build", "push", "preview"])
def test_an_output_folder_nothing_can_be_written_into_is_said_before_any_guide_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A build used to read and prepare every guide before its first write failed (4 to 13 s
    on a large folder): the output folder is tried first, and nothing is left of the try."""
    import guidedeck.prepare

    where = Path("/proc/guidedeck-out/decks")  # a folder no one, root included, can make
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc")
    prepared: list[object] = []
    real = guidedeck.prepare.prepare
    monkeypatch.setattr(guidedeck.prepare, "prepare",
                        lambda *a, **k: prepared.append(a) or real(*a, **k))  # fmt: skip
    clone = tmp_path / "clone"
    copy_guides(clone, *GUIDES)
    extra = ["--collection", str(tmp_path / "collection.anki2")] if command == "push" else []
    result = CliRunner().invoke(main, [command, str(clone), "--out", str(where), *extra])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"{where}: cannot write the output there" in result.output
    assert prepared == []
    scratch = tmp_path / "made" / "deeper"
    assert CliRunner().invoke(main, ["build", str(clone), "--out", str(scratch / "out"),
                                     "--dry-run"]).exit_code == 0  # fmt: skip
    assert not (tmp_path / "made").exists(), "a dry run makes no folder"


def test_a_record_of_decks_names_no_file_outside_its_folder(tmp_path: Path) -> None:
    """The output folder's record of its decks is read as data: a name in it that is a path
    is dropped, never looked at or written back."""
    from guidedeck.ownership import read_record

    clone = tmp_path / "clone"
    copy_guides(clone, GUIDES[1])
    out = clone / "build"
    _run("build", str(clone), "--out", str(out))
    (tmp_path / "outside.apkg").write_bytes(b"not yours")
    record = out / RECORD
    shipped = json.loads(record.read_text())
    shipped["decks"]["../../outside.apkg"] = digest(b"not yours")
    record.write_text(json.dumps(shipped))
    assert set(read_record(out).decks or {}) == {"quick_check.apkg"}
    (clone / "quick_check.md").write_text(
        (clone / "quick_check.md").read_text() + "\n| A | B |\n|---|---|\n| x | y |\n"
    )
    _run("build", str(clone), "--out", str(out))
    assert set(json.loads(record.read_text())["decks"]) == {"quick_check.apkg"}
    assert (tmp_path / "outside.apkg").read_bytes() == b"not yours"
