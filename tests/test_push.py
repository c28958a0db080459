"""``guidedeck push`` into real collection files, every card answered before the next push."""

from __future__ import annotations

import pickle
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from guidedeck.lockfile import LOCK_SUFFIX
from guidedeck.push import REMOVED_TAG, PushError, find_collection
from tests.anki_engine import assert_preview_matches_anki, fresh_collection, render_all
from tests.conftest import FIXTURES

SAMPLE = (FIXTURES / "updates" / "v1.md").read_text(encoding="utf-8")
QUIZ_BEFORE = "**Whcih protocol guarantees in-order delivery?**"
QUIZ_AFTER = "**Which protocol guarantees in-order delivery?**"
ADDED_QUIZ = (
    "### Quick Check\n\n**Is UDP connectionless?**\n\n-> A. Yes\n   B. No\n\n<details>\n"
    "<summary>See Answer</summary>\n\nUDP sends datagrams without a handshake.\n\n</details>\n\n"
)
GONE_ROW = "| Redis | 6379 | TCP |\n"


class Profile:
    """A folder with a guide, its output, and one Anki collection of a user who studies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.guides = root / "guides"
        self.guides.mkdir(parents=True)
        self.guide = self.guides / "networking.md"
        self.guide.write_text(SAMPLE, encoding="utf-8")
        self.out = root / "out"
        self.collection = root / "anki" / "User 1" / "collection.anki2"
        fresh_collection(self.collection.parent).close()

    def push(self, *extra: str, paths: tuple[str, ...] = ()) -> tuple[int, str]:
        args = ["push", *(paths or (str(self.guide),)), "--out", str(self.out)]
        result = CliRunner().invoke(main, [*args, "--collection", str(self.collection), *extra])
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    def open(self) -> Any:
        from anki.collection import Collection

        return Collection(str(self.collection))

    def study(self) -> int:
        """Answer every due card 'Easy': each gets a review and an interval. Returns how many."""
        col = self.open()
        try:
            answered = 0
            for deck in col.decks.all_names_and_ids():  # parents' limits apply too
                config = col.decks.config_dict_for_deck_id(deck.id)
                config["new"]["perDay"] = 9_999  # all today, not Anki's 20 (9,999: its most)
                col.decks.update_config(config)
            for did in col.db.list("select distinct did from cards"):
                col.decks.select(did)  # the scheduler shows the selected deck's cards
                while (card := col.sched.getCard()) is not None:
                    col.sched.answerCard(card, 4)
                    answered += 1
            return answered
        finally:
            col.close()

    def state(self) -> dict[str, Any]:
        """Everything a push could change, as plain data."""
        col = self.open()
        try:
            return {
                "notes": col.db.all(
                    "select id, guid, mid, mod, usn, tags, flds from notes order by id"
                ),
                "cards": col.db.all(
                    "select id, nid, did, ord, mod, usn, type, queue, due, ivl, factor, reps, "
                    "lapses, odid from cards order by id"
                ),
                "revlog": col.db.all("select id, cid, ease, ivl from revlog order by id"),
                "decks": sorted(d.name for d in col.decks.all_names_and_ids()),
            }
        finally:
            col.close()

    def notes(self) -> dict[str, dict[str, Any]]:
        """Notes by their ``ID`` field: fields, tags, cards' deck and queue and interval."""
        col = self.open()
        try:
            out = {}
            for nid in col.find_notes('"note:guidedeck*"'):  # the user's own notes aside
                note = col.get_note(nid)
                cards = note.cards()
                out[note["ID"]] = {
                    "fields": dict(note.items()),
                    "tags": set(note.tags),
                    "decks": {col.decks.name(c.did) for c in cards},
                    "queue": {c.queue for c in cards},
                    "ivl": {c.ivl for c in cards},
                }
            return out
        finally:
            col.close()


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    return Profile(tmp_path)


def edit(profile: Profile) -> None:
    """Fix a typo in a quiz, add a quiz, remove a table row."""
    text = profile.guide.read_text(encoding="utf-8")
    text = text.replace(QUIZ_BEFORE, QUIZ_AFTER).replace(GONE_ROW, "")
    text = text.replace(
        "### Quick Check\n\n" + QUIZ_AFTER, ADDED_QUIZ + "### Quick Check\n\n" + QUIZ_AFTER
    )
    profile.guide.write_text(text, encoding="utf-8")


def test_push_edit_push_keeps_every_review(profile: Profile) -> None:
    code, output = profile.push()
    assert code == 0, output
    first = profile.notes()
    answered = profile.study()
    assert answered == len(first) > 5
    studied = profile.notes()
    assert all(n["ivl"] != {0} for n in studied.values()), "every card has an interval"
    revlog = len(profile.state()["revlog"])

    edit(profile)
    code, output = profile.push()
    assert code == 0, output
    assert "backup:" in output
    after = profile.notes()
    new = set(after) - set(studied)
    assert len(new) == 1 and "is-udp-connectionless" in next(iter(new))
    for key, note in studied.items():
        assert after[key]["ivl"] == note["ivl"], f"review lost: {key}"
    questions = {k: n["fields"].get("Question", "") for k, n in after.items()}
    fixed = [k for k, q in questions.items() if "Which protocol guarantees" in q]
    assert len(fixed) == 1 and fixed[0] in studied, "the typo fix landed on the studied note"
    assert len(profile.state()["revlog"]) == revlog
    # the removed row's note is kept and reported by default
    assert "1 removed note(s): kept" in output
    assert any("redis" in k.lower() for k in set(studied) & set(after))
    col = profile.open()
    try:
        assert_preview_matches_anki(render_all(col))
    finally:
        col.close()


def test_a_push_without_edits_changes_nothing(profile: Profile) -> None:
    assert profile.push()[0] == 0
    profile.study()
    before = profile.state()
    lock = (profile.guides / f"networking{LOCK_SUFFIX}").read_bytes()
    code, output = profile.push()
    assert code == 0, output
    assert "backup:" not in output, "nothing to change: no backup made"
    assert profile.state() == before
    assert (profile.guides / f"networking{LOCK_SUFFIX}").read_bytes() == lock


@pytest.mark.parametrize("policy", ["keep", "tag", "suspend", "delete"])
def test_each_removed_policy_touches_exactly_the_removed_notes(
    policy: str, profile: Profile
) -> None:
    # a note of the user's own, and one of another guide, must never be touched
    (profile.guides / "other.md").write_text(
        (FIXTURES / "parse" / "tables.md").read_text(encoding="utf-8")
    )
    assert profile.push(paths=(str(profile.guides),))[0] == 0
    col = profile.open()
    try:
        own = col.new_note(col.models.by_name("Basic"))
        own["Front"], own["Back"] = "my own card", "mine"
        col.add_note(own, col.decks.id("Mine"))
    finally:
        col.close()
    profile.study()
    before = profile.notes()
    edit(profile)
    extra = ["--removed", policy] + (["--yes"] if policy == "delete" else [])
    code, output = profile.push(*extra)
    assert code == 0, output
    after = profile.notes()
    removed = [k for k in before if "redis" in k.lower() and "networking/fact" in k]
    assert len(removed) == 1
    (gone,) = removed
    assert_only_the_removed_note_was_acted_on(policy, before, after, gone)
    assert "1 removed note(s): " in output


def assert_only_the_removed_note_was_acted_on(
    policy: str, before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], gone: str
) -> None:
    """``--removed POLICY`` did its one thing to note ``gone``, and nothing to any other note
    (notes as :meth:`Profile.notes` gives them, by ``ID`` field)."""
    untouched = {k for k in before if k != gone and k in after}
    assert len(untouched) == len(before) - 1
    for key in untouched:
        assert REMOVED_TAG not in after[key]["tags"], key
        assert -1 not in after[key]["queue"], key
        assert after[key]["ivl"] == before[key]["ivl"], key
    if policy == "keep":
        assert after[gone]["tags"] == before[gone]["tags"] and -1 not in after[gone]["queue"]
    elif policy == "tag":
        assert REMOVED_TAG in after[gone]["tags"]
    elif policy == "suspend":
        assert after[gone]["queue"] == {-1}
    else:
        assert gone not in after


def test_delete_without_yes_and_no_terminal_changes_nothing(profile: Profile) -> None:
    assert profile.push()[0] == 0
    profile.study()
    before = profile.state()
    edit(profile)
    lock = (profile.guides / f"networking{LOCK_SUFFIX}").read_bytes()
    code, output = profile.push("--removed", "delete")
    assert code == 1
    assert "pass --yes" in output and "nothing was changed" in output
    assert profile.state() == before
    assert (profile.guides / f"networking{LOCK_SUFFIX}").read_bytes() == lock


HOLDER = """
import sys, time
from anki.collection import Collection
col = Collection(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_a_collection_held_open_is_refused_and_untouched(profile: Profile) -> None:
    assert profile.push()[0] == 0
    edit(profile)
    deck = profile.out / "networking.apkg"
    files = {p: p.read_bytes() for p in (profile.collection, deck,
                                         profile.guides / f"networking{LOCK_SUFFIX}")}  # fmt: skip
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(profile.collection)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        code, output = profile.push()
    finally:
        holder.kill()
        holder.communicate()
    assert code == 1
    assert "is in use (Anki or another program has it open): close Anki" in output
    assert len([ln for ln in output.splitlines() if ln.strip()]) == 1, output
    for path, data in files.items():
        assert path.read_bytes() == data, f"{path.name} changed"


def test_a_renamed_deck_moves_the_studied_cards(profile: Profile) -> None:
    config = profile.guides / "decks.yaml"
    config.write_text("packages:\n  - guides: [networking.md]\n    deck: Net::Old\n")
    code, output = profile.push(paths=(str(profile.guides),))
    assert code == 0, output
    profile.study()
    before = profile.notes()
    config.write_text("packages:\n  - guides: [networking.md]\n    deck: Net::New\n")
    code, output = profile.push(paths=(str(profile.guides),))
    assert code == 0, output
    after = profile.notes()
    assert all(n["decks"] == {"Net::New"} for n in after.values())
    assert all(after[k]["ivl"] == before[k]["ivl"] for k in before), "reviews kept"
    moved = re.search(r"Net::New\s+0\s+0\s+(\d+)\s+(\d+)\s+0", output)
    assert moved and moved.group(1) == moved.group(2) == str(len(before)), output
    decks = profile.state()["decks"]
    assert "Net::Old" not in decks and "Net::New" in decks
    assert 'deck "Net::Old" was left empty by the moves and removed' in output


def test_the_backup_is_restorable(profile: Profile, tmp_path: Path) -> None:
    from anki._backend import RustBackend

    assert profile.push()[0] == 0
    profile.study()
    before = profile.state()
    edit(profile)
    code, output = profile.push("--removed", "delete", "--yes")
    assert code == 0, output
    (backup,) = [
        ln[len("backup: ") : ln.index(".colpkg") + 7]
        for ln in output.splitlines()
        if ln.startswith("backup: ")
    ]
    assert Path(backup).is_file() and Path(backup).parent == profile.collection.parent / "backups"
    assert profile.state() != before
    restored = tmp_path / "restored" / "collection.anki2"
    restored.parent.mkdir()
    RustBackend().import_collection_package(
        col_path=str(restored), backup_path=backup,
        media_folder=str(restored.parent / "media"), media_db=str(restored.parent / "media.db"),
    )  # fmt: skip
    profile.collection = restored
    assert profile.state() == before


def _every_file(*folders: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for f in folders for p in f.rglob("*") if p.is_file()}


def test_dry_run_shows_the_plan_and_changes_nothing(profile: Profile) -> None:
    assert profile.push()[0] == 0
    profile.study()
    edit(profile)
    before = profile.state()
    # every file, the build cache's too: a dry run writes nothing
    files = _every_file(profile.out, profile.guides)
    backups = sorted((profile.collection.parent / "backups").iterdir())
    code, output = profile.push("--dry-run", "--removed", "delete")
    assert code == 0, output
    assert output.startswith("would push into collection")
    assert "total" in output and "1 removed note(s): would be handled by --removed delete" in output
    assert profile.state() == before
    assert _every_file(profile.out, profile.guides) == files
    assert sorted((profile.collection.parent / "backups").iterdir()) == backups


def _prefs(base: Path, last: str) -> None:
    conn = sqlite3.connect(base / "prefs21.db")
    conn.execute("create table profiles (name text primary key collate nocase, data blob)")
    conn.execute(
        "insert into profiles values ('_global', ?)",
        (pickle.dumps({"last_loaded_profile_name": last, "created": 1}),),
    )
    conn.commit()
    conn.close()


def test_the_profile_is_found_in_ankis_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "Anki2"
    monkeypatch.setenv("ANKI_BASE", str(base))
    with pytest.raises(PushError, match="no Anki profile found"):
        find_collection(None, None)
    for name in ("Alice", "Bob"):
        fresh_collection(base / name).close()
    (base / "addons21").mkdir()
    with pytest.raises(PushError, match=r"2 Anki profiles .*Alice, Bob.*--profile"):
        find_collection(None, None)
    _prefs(base, "Bob")
    assert find_collection(None, None) == (
        base / "Bob" / "collection.anki2",
        f"profile 'Bob' (last used) in {base}",
    )
    assert find_collection(None, "Alice")[0] == base / "Alice" / "collection.anki2"
    with pytest.raises(PushError, match="no profile 'Carol'"):
        find_collection(None, "Carol")


def test_an_item_moved_to_another_guide_takes_its_card_along(profile: Profile) -> None:
    text = profile.guide.read_text(encoding="utf-8")
    start = text.index("### Quick Check\n\n**Which port does PostgreSQL")
    end = text.index("</details>", start) + len("</details>\n")
    quiz = text[start:end]
    other = profile.guides / "databases.md"
    other.write_text(
        "# Databases\n\n## Engines\n\n| Engine | Kind |\n|---|---|\n"
        "| PostgreSQL | relational |\n\n",
        encoding="utf-8",
    )
    assert profile.push(paths=(str(profile.guides),))[0] == 0
    profile.study()
    before = profile.notes()
    (key,) = [
        k for k, n in before.items() if "PostgreSQL listen" in n["fields"].get("Question", "")
    ]
    assert before[key]["decks"] == {"Interview Guides::Networking Refresher"}

    profile.guide.write_text(text.replace(quiz, ""), encoding="utf-8")
    other.write_text(other.read_text(encoding="utf-8") + quiz, encoding="utf-8")
    code, output = profile.push(paths=(str(profile.guides),))
    assert code == 0, output
    after = profile.notes()
    assert after[key]["decks"] == {"Interview Guides::Databases"}, "the studied note moved"
    assert after[key]["ivl"] == before[key]["ivl"], "with its review"
    assert set(after) == set(before), "no note added, none lost"


@pytest.mark.parametrize("damage", ["truncated", "not sqlite"])
def test_a_damaged_collection_is_not_called_in_use(profile: Profile, damage: str) -> None:
    """Only a collection another program holds is "in use"; a damaged or truncated one is said
    to be so, and left as it is (#23)."""
    code, _output = profile.push()
    assert code == 0
    data = profile.collection.read_bytes()
    broken = data[: len(data) // 2] if damage == "truncated" else b"not a database at all" * 100
    profile.collection.write_bytes(broken)
    code, output = profile.push()
    assert code == 1
    assert "is damaged or not an Anki collection" in output and "in use" not in output, output
    assert profile.collection.read_bytes() == broken


def test_a_dry_run_leaves_an_older_collection_as_it_is(profile: Profile) -> None:
    """Anki's engine upgrades an older collection when it opens one: a dry run plans against a
    copy, so the user's file is not changed, not even its schema (#23)."""
    from anki.collection import Collection

    col = Collection(str(profile.collection))
    col.close(downgrade=True)  # the schema older Anki versions (and AnkiDroid's) read
    before = profile.collection.read_bytes()
    code, output = profile.push("--dry-run")
    assert code == 0, output
    assert "would push" in output
    assert profile.collection.read_bytes() == before


def _colleagues_deck(folder: Path) -> Path:
    """The deck a colleague built of the same guide: the same cards, but its quizzes born from
    an earlier wording of their questions, so under other GUIDs."""
    folder.mkdir()
    guide = folder / "networking.md"
    guide.write_text(SAMPLE.replace("?**", ", in short?**"), encoding="utf-8")
    for _ in range(2):
        result = CliRunner().invoke(main, ["build", str(guide), "--out", str(folder / "out")])
        assert result.exit_code == 0, result.output
        guide.write_text(SAMPLE, encoding="utf-8")  # then worded as the user's
    return folder / "out" / "networking.apkg"


@pytest.mark.parametrize("placed", ["networking.apkg", "networking (1).apkg"])
def test_a_colleagues_deck_in_the_output_folder_takes_over_nothing(
    profile: Profile, tmp_path: Path, placed: str
) -> None:
    """A deck of the same guide that this build did not write (a colleague's, downloaded, other
    GUIDs), over the user's own deck or beside it, is reported and ignored: a push that deletes
    removed notes deletes none of the reviewed ones and adds no copies (#23)."""
    from guidedeck.memory import read_deck

    code, output = profile.push()
    assert code == 0, output
    profile.study()
    studied, before = profile.notes(), profile.state()
    theirs = _colleagues_deck(tmp_path / "colleague")
    mine = {n.guid for n in read_deck(profile.out / "networking.apkg")}
    assert len({n.guid for n in read_deck(theirs)} - mine) == 2, "their 2 quizzes have others"
    shutil.copyfile(theirs, profile.out / placed)
    code, output = profile.push("--removed", "delete", "--yes")
    assert code == 0, output
    assert f"{profile.out / placed}:1:1: warning: not a deck this build wrote" in output
    after = profile.notes()
    assert set(after) == set(studied), "no note deleted, none added"
    assert all(after[k]["ivl"] == n["ivl"] for k, n in studied.items()), "every review kept"
    assert [n[:2] for n in profile.state()["notes"]] == [n[:2] for n in before["notes"]]


def test_a_push_backs_up_an_older_collection_as_it_was(profile: Profile, tmp_path: Path) -> None:
    """Anki's engine upgrades an older collection as it opens it: the backup is taken before,
    so it holds the collection as it was, schema and all, and restores it (#23)."""
    import zipfile

    from anki._backend import RustBackend
    from anki.collection import Collection

    assert profile.push()[0] == 0
    profile.study()
    col = Collection(str(profile.collection))
    col.close(downgrade=True)  # the schema older Anki versions (and AnkiDroid's) read
    before = profile.state()
    col = Collection(str(profile.collection))
    col.close(downgrade=True)  # reading the state opened it: older again
    edit(profile)
    code, output = profile.push()
    assert code == 0, output
    backup = Path(re.search(r"^backup: (.+?\.colpkg)", output, re.M).group(1))  # type: ignore[union-attr]
    with zipfile.ZipFile(backup) as package:
        kept = tmp_path / "kept.anki2"
        kept.write_bytes(package.read("collection.anki2"))
    # the collection itself, as it was (a backup made through the engine holds only a stub
    # "please update" collection under this name, beside the upgraded one)
    conn = sqlite3.connect(kept)
    try:
        assert conn.execute("select ver from col").fetchone() == (11,)
        kept_notes = conn.execute("select id, guid from notes order by id").fetchall()
    finally:
        conn.close()
    assert kept_notes == [tuple(n[:2]) for n in before["notes"]]
    restored = tmp_path / "restored" / "collection.anki2"
    restored.parent.mkdir()
    RustBackend().import_collection_package(
        col_path=str(restored), backup_path=str(backup),
        media_folder=str(restored.parent / "media"), media_db=str(restored.parent / "media.db"),
    )  # fmt: skip
    profile.collection = restored
    assert profile.state() == before


def test_a_collection_from_a_newer_anki_is_said_so(profile: Profile) -> None:
    """A collection whose schema is newer than the engine's is not "in use": it is said to be
    newer, and left as it is (#23)."""
    assert profile.push()[0] == 0
    conn = sqlite3.connect(profile.collection)
    conn.execute("update col set ver = 99")
    conn.commit()
    conn.close()
    data = profile.collection.read_bytes()
    backups = sorted((profile.collection.parent / "backups").iterdir())
    edit(profile)
    code, output = profile.push()
    assert code == 1
    assert "was made by a newer Anki than the engine guidedeck uses" in output, output
    assert "in use" not in output
    assert profile.collection.read_bytes() == data
    assert sorted((profile.collection.parent / "backups").iterdir()) == backups, "none kept"


STOP_AFTER_FIRST = """
import os, signal, sys
import guidedeck.push as push
from guidedeck.targets import EngineTarget
imported = EngineTarget.import_package
def import_then_stop(self, package):
    log = imported(self, package)
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the first package is imported
    return log
EngineTarget.import_package = import_then_stop
from guidedeck.entry import run
sys.argv = ["guidedeck", *sys.argv[1:]]
run()
"""


def test_a_push_stopped_between_packages_says_what_it_left(profile: Profile) -> None:
    """Ctrl-C during a push of two guides: the package being imported goes in whole, the push
    stops, and the message names the deck that is in, the one that is not, and the backup
    that undoes it; the next push finishes it without a duplicate (#23)."""
    other = profile.guides / "databases.md"
    table = "| Engine | Kind |\n|---|---|\n| PostgreSQL | relational |\n| SQLite | embedded |\n"
    other.write_text(f"# Databases\n\n## Engines\n\n{table}\n", encoding="utf-8")
    files = {p: p.read_bytes() for p in profile.guides.iterdir()}
    args = ["push", str(profile.guides), "--out", str(profile.out),
            "--collection", str(profile.collection)]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", STOP_AFTER_FIRST, *args], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    found = re.search(r"push stopped \(Ctrl-C\) part-way: the collection now holds the notes of "
                      r"(.+); not yet of (.+)\. No deck or lock file was changed\. .*restore the "
                      r"backup (.+?\.colpkg)", done.stderr)  # fmt: skip
    assert found, done.stderr
    assert Path(found.group(3)).is_file()
    col = profile.open()
    try:
        held = {col.decks.name(d) for d in col.db.list("select distinct did from cards")}
    finally:
        col.close()
    assert held == {found.group(1)} and found.group(2) not in held
    assert {p: p.read_bytes() for p in profile.guides.iterdir()} == files, "no lock written"
    assert not profile.out.exists() or not list(profile.out.glob("*.apkg"))
    code, output = profile.push(paths=(str(profile.guides),))
    assert code == 0, output
    keys = list(profile.notes())
    assert len(keys) == len(set(keys)) and len(keys) > 5
    assert {d for d in profile.state()["decks"] if d != "Default"} >= {
        found.group(1),
        found.group(2),
    }


def test_backups_taken_in_one_second_are_all_kept_up_to_ten(profile: Profile) -> None:
    """Each push that changes the collection keeps its own backup, however quick the pushes;
    guidedeck keeps its newest 10 and never touches Anki's own backups."""
    from guidedeck.backup import KEEP, PREFIX, Backup

    folder = profile.collection.parent / "backups"
    folder.mkdir()
    ankis = folder / "backup-2026-01-01-00.00.00.colpkg"
    ankis.write_bytes(b"Anki's own")
    kept = []
    for n in range(KEEP + 2):
        kept.append(Backup(profile.collection).keep())
        assert len(list(folder.glob(f"{PREFIX}*.colpkg"))) == min(n + 1, KEEP), "none replaced"
    assert sorted(folder.glob(f"{PREFIX}*.colpkg")) == sorted(set(kept[-KEEP:]))
    assert ankis.read_bytes() == b"Anki's own"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
