"""Reviews survive what authors do with git: each move of issue #11, in real git and real Anki.

Every test starts from guides committed to a repository, built, imported and every card answered
once. Then the author's move is made with real git and the decks are rebuilt and re-imported
with Anki's defaults. :class:`tests.gitflow.Measure` says what happened to each item: nothing may
be lost, duplicated or swapped, and no review may change.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.anki_engine import import_package
from tests.gitflow import User, commit_all, git, live_tokens, new_repo
from tests.test_updates_property import Model


def model(seed: int, first_token: int = 0, title: str = "Property Guide") -> Model:
    """A generated guide; ``first_token`` keeps two guides' item tokens apart."""
    m = Model(random.Random(seed))
    m.count = first_token
    m.questions = [m.new_question() for _ in range(3)]
    m.title = title  # type: ignore[attr-defined]
    return m


def text(m: Model) -> str:
    """The guide's Markdown, under its own title."""
    return m.markdown().replace("# Property Guide", f"# {m.title}", 1)  # type: ignore[attr-defined]


def write(repo: Path, name: str, m: Model) -> Path:
    path = repo / "guides" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text(m), encoding="utf-8")
    return path


@pytest.fixture
def start(tmp_path: Path) -> tuple[User, Model]:
    """One guide committed, built, imported and every card reviewed."""
    repo = new_repo(tmp_path / "repo")
    m = model(1)
    write(repo, "network.md", m)
    user = User(repo, repo / "build", tmp_path / "anki")
    first = user.sync()
    assert first.added == len(live_tokens(repo / "guides"))  # one note per item
    commit_all(repo, "first guide and its lock")
    yield user, m
    user.col.close()


def edit_round(m: Model) -> None:
    """One round of ordinary edits: a typo, a new quiz before another, an edited cell."""
    from tests.test_updates_property import EDITS

    EDITS["typo"](m, m.questions[0])
    EDITS["add-quiz"](m, m.questions[1])
    EDITS["edit-cell"](m, m.questions[2])


@pytest.mark.parametrize("with_lock", [True, False], ids=["lock-renamed", "lock-forgotten"])
def test_rename_keeps_every_note(start: tuple[User, Model], with_lock: bool) -> None:
    user, _m = start
    notes = user.col.note_count()
    git(user.repo, "mv", "guides/network.md", "guides/networking.md")
    if with_lock:
        git(user.repo, "mv", "guides/network.guidedeck.lock", "guides/networking.guidedeck.lock")
    commit_all(user.repo, "rename")
    measure = user.sync()
    assert measure.clean() and measure.added == 0, measure
    assert user.col.note_count() == notes
    assert "no longer in" not in user.output
    # the gone guide's deck (and forgotten lock) were taken over whole, so they are tidied away
    assert not (user.out / "network.apkg").exists()
    assert not (user.repo / "guides" / "network.guidedeck.lock").exists()
    assert (user.repo / "guides" / "networking.guidedeck.lock").exists()


def test_rename_and_move_to_another_folder_with_edits(start: tuple[User, Model]) -> None:
    user, m = start
    (user.repo / "guides" / "cloud").mkdir()
    git(user.repo, "mv", "guides/network.md", "guides/cloud/net.md")
    edit_round(m)
    write(user.repo, "cloud/net.md", m)
    commit_all(user.repo, "moved and edited")
    measure = user.sync()
    assert measure.clean() and measure.added == 1, measure


@pytest.mark.parametrize("how", ["deleted", "never-committed-fresh-clone"])
def test_lost_lock_after_an_edit_round(start: tuple[User, Model], how: str) -> None:
    user, m = start
    edit_round(m)
    write(user.repo, "network.md", m)
    assert user.sync().clean()
    if how == "deleted":
        (user.repo / "guides" / "network.guidedeck.lock").unlink()
    else:
        # a fresh clone of a repository that never had the lock; the user's output folder
        # (where the decks they imported are) is the one they always build into
        (user.repo / "guides" / "network.guidedeck.lock").unlink()
        with (user.repo / ".gitignore").open("a", encoding="utf-8") as ignore:
            ignore.write("*.guidedeck.lock\n")
        commit_all(user.repo, "lock not committed")
        clone = user.repo.parent / "clone"
        git(user.repo.parent, "clone", "-q", str(user.repo), str(clone))
        user.repo = clone
    edit_round(m)
    write(user.repo, "network.md", m)
    measure = user.sync()
    assert measure.clean() and measure.added == 1, measure


def test_no_lock_and_no_previous_decks_never_swaps(start: tuple[User, Model]) -> None:
    """Nothing remembers the notes: items unchanged since their birth keep their note by their
    key, edited ones may come back as new notes, but no note ever takes another item's text."""
    user, m = start
    edit_round(m)
    write(user.repo, "network.md", m)
    assert user.sync().clean()
    (user.repo / "guides" / "network.guidedeck.lock").unlink()
    shutil.rmtree(user.out)
    edit_round(m)
    write(user.repo, "network.md", m)
    measure = user.sync()
    assert measure.swapped == 0 and measure.reviews_changed == 0, measure


def test_revert_reaches_anki(start: tuple[User, Model]) -> None:
    user, m = start
    original = {nid: user.col.get_note(nid).fields for nid in user.col.find_notes("")}
    edited = copy.deepcopy(m)
    from tests.test_updates_property import EDITS

    EDITS["rewrite-explanation"](edited, edited.questions[0])
    EDITS["edit-cell"](edited, edited.questions[1])
    write(user.repo, "network.md", edited)
    assert user.sync().updated >= 2
    commit_all(user.repo, "an edit")
    git(user.repo, "revert", "--no-edit", "HEAD")
    measure = user.sync()
    assert measure.clean() and measure.added == 0 and measure.updated >= 2, measure
    # what Anki holds is the original text again, note for note
    assert {nid: user.col.get_note(nid).fields for nid in original} == original


def test_question_moved_to_another_guide_keeps_its_notes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    a, b = model(1, 0, "Alpha Guide"), model(2, 500, "Beta Guide")
    write(repo, "alpha.md", a)
    write(repo, "beta.md", b)
    user = User(repo, repo / "build", tmp_path / "anki")
    user.sync()
    commit_all(repo, "two guides")
    b.questions.append(a.questions.pop(1))
    write(repo, "alpha.md", a)
    write(repo, "beta.md", b)
    measure = user.sync()
    assert measure.clean() and measure.added == 0, measure
    assert "no longer in" not in user.output
    user.col.close()


def _two_users(tmp_path: Path) -> tuple[Path, User, User, Model]:
    """A shared repository with a guide and its lock; Ana and Ben clone it and import."""
    origin = new_repo(tmp_path / "origin")
    m = model(3)
    write(origin, "network.md", m)
    User(origin, tmp_path / "origin-build", tmp_path / "origin-anki").build()
    commit_all(origin, "guide and lock")
    git(origin, "config", "receive.denyCurrentBranch", "updateInstead")
    users = []
    for name in ("ana", "ben"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", str(origin), str(clone))
        user = User(clone, clone / "build", tmp_path / f"{name}-anki")
        assert user.sync().added == len(live_tokens(clone / "guides"))
        assert not git(clone, "status", "--porcelain").stdout  # the lock did not change
        users.append(user)
    return origin, users[0], users[1], m


@pytest.mark.parametrize("resolution", ["union-driver", "ours", "theirs"])
def test_two_branches_add_a_quick_check_to_one_question(tmp_path: Path, resolution: str) -> None:
    """Ana and Ben each add a quiz to question 1 on their own branch and import their decks;
    the branches are merged (the lock merged by git's union driver, or its conflict resolved
    with either side); both rebuild: each gets the other's quiz, and nothing else changes."""
    origin, ana, ben, m = _two_users(tmp_path)
    ana_model, ben_model = copy.deepcopy(m), copy.deepcopy(m)
    ana_model.count, ben_model.count = 700, 800
    ana_model.questions[0].quizzes.insert(0, ana_model.new_quiz())
    ben_model.questions[0].quizzes.insert(0, ben_model.new_quiz())
    for user, mine, branch in ((ana, ana_model, "ana"), (ben, ben_model, "ben")):
        git(user.repo, "checkout", "-q", "-b", branch)
        write(user.repo, "network.md", mine)
        assert user.sync().added == 1
        commit_all(user.repo, f"{branch}'s quiz")
        git(user.repo, "push", "-q", "origin", branch)

    # Ana merges both branches on main; the guide's text merges by hand (both quizzes)
    both = copy.deepcopy(ana_model)
    both.questions[0].quizzes.insert(1, ben_model.questions[0].quizzes[0])
    git(ana.repo, "checkout", "-q", "main")
    if resolution == "union-driver":
        (ana.repo / ".gitattributes").write_text("*.guidedeck.lock merge=union\n", "utf-8")
        commit_all(ana.repo, "union merge for lock files")
    git(ana.repo, "fetch", "-q", "origin")
    git(ana.repo, "merge", "-q", "--no-edit", "ana")
    git(ana.repo, "merge", "--no-edit", "origin/ben", check=False)  # the guide conflicts
    lock = "guides/network.guidedeck.lock"
    conflicted = git(ana.repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
    if resolution == "union-driver":
        assert lock not in conflicted  # the driver merged both sides' lines
    else:
        assert lock in conflicted
        git(ana.repo, "checkout", f"--{resolution}", "--", lock)
    write(ana.repo, "network.md", both)
    git(ana.repo, "add", "-A")
    git(ana.repo, "commit", "-q", "--no-edit")
    git(ana.repo, "push", "-q", "origin", "main")

    ana_measure = ana.sync()
    git(ben.repo, "checkout", "-q", "main")
    git(ben.repo, "pull", "-q", "--no-rebase", "origin", "main")
    ben_measure = ben.sync()
    for measure in (ana_measure, ben_measure):
        assert measure.clean() and measure.added == 1, (resolution, measure)
    for user in (ana, ben):
        assert user.col.note_count() == len(live_tokens(user.repo / "guides"))
        user.col.close()
    assert origin.exists()


def test_removed_item_is_found_by_the_printed_search_after_lock_regenerated(
    start: tuple[User, Model],
) -> None:
    user, m = start
    # everything guidedeck remembered is gone: the next build makes new note ids, which Anki
    # ignores for notes it already has (it keeps its own ids and matches by GUID)
    (user.repo / "guides" / "network.guidedeck.lock").unlink()
    shutil.rmtree(user.out)
    assert user.sync().clean()
    gone = m.questions[1].quizzes.pop(0)
    write(user.repo, "network.md", m)
    user.sync()
    search = next(ln.strip() for ln in user.output.splitlines() if ln.startswith("  "))
    found = user.col.find_notes(search)
    assert len(found) == 1
    assert gone.token in user.col.get_note(found[0])["Question"]
    assert "1 note(s) are no longer in network.md" in user.output


def test_concurrent_builds_of_one_folder_both_succeed(start: tuple[User, Model]) -> None:
    user, m = start
    from tests.test_updates_property import EDITS

    for round_ in range(4):
        EDITS["add-row"](m, m.questions[round_ % 3])
        write(user.repo, "network.md", m)
        command = [sys.executable, "-m", "guidedeck", "build", str(user.repo / "guides"),
                   "--out", str(user.out)]  # fmt: skip
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                for _ in range(3)]  # fmt: skip
        outputs = [(p.communicate(timeout=120)[0].decode(), p.returncode) for p in runs]
        assert all(code == 0 for _, code in outputs), outputs
        assert not list(user.out.glob(".*.tmp")), "temporary files left behind"
    measure = user.sync()
    assert measure.clean() and measure.added == 4, measure
    user.healthy()


def _decks_yaml(repo: Path, body: str) -> None:
    (repo / "guides" / "decks.yaml").write_text(body, encoding="utf-8")


def _config_folder(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work from a folder whose ``deck_source/`` is the repository's guides folder."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "deck_source").symlink_to(repo / "guides")
    monkeypatch.chdir(work)


def test_one_guide_in_two_packages_rebuilds_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, "network.md", model(4))
    _decks_yaml(
        repo,
        """version: 1
packages:
  - guides: [network.md]
    output: quizzes.apkg
    kinds: [quiz]
  - guides: [network.md]
    output: rest.apkg
    kinds: [fact, contrast, scenario]
""",
    )
    _config_folder(tmp_path, repo, monkeypatch)
    runner = CliRunner()
    out, lock = tmp_path / "out", repo / "guides" / "network.guidedeck.lock"
    assert runner.invoke(main, ["build", "--out", str(out), "-j", "1"]).exit_code == 0
    first = {p.name: p.read_bytes() for p in [*out.glob("*.apkg"), lock]}
    result = runner.invoke(main, ["build", "--out", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    again = {p.name: p.read_bytes() for p in [*out.glob("*.apkg"), lock]}
    assert set(first) == {"quizzes.apkg", "rest.apkg", "network.guidedeck.lock"}
    assert again == first
    kinds = {json.loads(line).get("kind") for line in lock.read_text().splitlines()[1:]}
    assert kinds == {"quiz", "fact", "scenario"}
    user = User(repo, out, tmp_path / "anki")
    user.healthy()
    user.col.close()


def test_renamed_deck_is_reported_with_what_anki_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, "network.md", model(5))
    _config_folder(tmp_path, repo, monkeypatch)
    user = User(repo, tmp_path / "out", tmp_path / "anki")
    for name in ("Networking", "Interview::Networking"):
        _decks_yaml(repo, f'version: 1\npackages:\n  - guides: [network.md]\n    deck: "{name}"\n')
        result = CliRunner().invoke(main, ["build", "--out", str(user.out), "-j", "1"])
        assert result.exit_code == 0, result.output
        for apkg in user.out.glob("*.apkg"):
            assert not import_package(user.col, apkg).conflicting
    notes = user.col.note_count()
    notice = f'{notes} card(s) were in "Networking" and now belong to "Interview::Networking"'
    assert notice in result.output
    assert "Change Deck" in result.output
    # what the notice says Anki does: the cards stayed where they were
    decks = {user.col.decks.name(user.col.get_card(c).did) for c in user.col.find_cards("")}
    assert decks == {"Networking"}
    user.col.close()


WARNED = (
    "# Other Guide\n\n## Ports\n\n| Service | Port |\n|---|---|\n| SSH | 22 |\n| DNS | 53 |\n\n"
    '<InterviewQuiz question="Broken?" options={["a", "b"]} correctAnswer={7} />\n'
)


def test_rename_while_another_guide_has_a_warning(start: tuple[User, Model]) -> None:
    """A warning elsewhere in the build (a broken block, skipped) does not keep the renamed
    guide's old deck and lock around, and the builds after the rename write nothing new (#23:
    they rewrote the renamed deck and updated every note, on every build)."""
    user, _m = start
    (user.repo / "guides" / "other.md").write_text(WARNED, encoding="utf-8")
    assert user.sync().clean()
    assert "warning:" in user.output
    commit_all(user.repo, "a guide with a broken block")
    notes = user.col.note_count()
    git(user.repo, "mv", "guides/network.md", "guides/net.md")  # its deck now sorts first
    commit_all(user.repo, "rename")
    measure = user.sync()
    assert measure.clean() and measure.added == 0, measure
    assert user.col.note_count() == notes
    assert not (user.out / "network.apkg").exists()
    assert not (user.repo / "guides" / "network.guidedeck.lock").exists()
    decks = {p: p.read_bytes() for p in user.out.glob("*.apkg")}
    for _ in range(2):
        again = user.sync()
        assert again.clean() and again.added == again.updated == 0, again
        assert {p: p.read_bytes() for p in user.out.glob("*.apkg")} == decks
