"""Random mixes of edits and git moves never lose a review, duplicate a note or swap identities.

Each step is one thing an author does, committed with the lock as an author would (guide and
lock together), then built and imported into the same Anki collection:

- ``edit``: one to three random edits (see :mod:`tests.test_updates_property`);
- ``rename`` / ``rename-without-lock``: ``git mv`` of the guide, with or without its lock;
- ``lose-lock``: the lock file deleted (a fresh clone that never had it);
- ``revert``: ``git revert`` of the last commit, which restores the old lock and its mtimes;
- ``merge``: a branch edits one question while main edits another, then the branch is merged
  (the lock by git's union driver, as the README advises).
"""

from __future__ import annotations

import copy
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gitflow import User, commit_all, git, new_repo
from tests.test_git_identity import model, text
from tests.test_updates_property import EDITS, Model

STEPS = ["edit", "rename", "rename-without-lock", "lose-lock", "revert", "merge"]
LOCAL_EDITS = sorted(set(EDITS) - {"reorder"})
"""Edits that touch one question only, so two branches' edits merge as text."""


@dataclass
class State:
    """What a commit holds: the guide as data, and its file name."""

    model: Model
    name: str


class Author:
    """A repository with one guide, its history as states, and the user importing it."""

    def __init__(self, root: Path, seed: int) -> None:
        self.repo = new_repo(root / "repo")
        (self.repo / ".gitattributes").write_text("*.guidedeck.lock merge=union\n", "utf-8")
        self.rng = random.Random(seed)
        self.history = [State(model(seed), "guide.md")]
        self.renames = 0
        self.user = User(self.repo, self.repo / "build", root / "anki")

    @property
    def state(self) -> State:
        return self.history[-1]

    def guide(self, state: State | None = None) -> Path:
        return self.repo / "guides" / (state or self.state).name

    def lock(self) -> Path:
        return self.guide().with_name(self.guide().stem + ".guidedeck.lock")

    def write(self, state: State) -> None:
        self.guide(state).parent.mkdir(parents=True, exist_ok=True)
        self.guide(state).write_text(text(state.model), encoding="utf-8")

    def edited(self, base: State, question: int | None = None, count: int = 0) -> State:
        new = State(copy.deepcopy(base.model), base.name)
        new.model.count += count
        names = LOCAL_EDITS if question is not None else sorted(EDITS)
        for _ in range(self.rng.randint(1, 3)):
            q = question if question is not None else self.rng.randrange(3)
            EDITS[self.rng.choice(names)](new.model, new.model.questions[q % 3])
        return new

    def step(self, kind: str) -> State:
        """Make one move in the working tree; returns the state it now holds."""
        if kind == "edit":
            new = self.edited(self.state)
            self.write(new)
            return new
        if kind.startswith("rename"):
            self.renames += 1
            new = State(self.state.model, f"guide{self.renames}.md")
            git(self.repo, "mv", f"guides/{self.state.name}", f"guides/{new.name}")
            if kind == "rename" and self.lock().exists():
                target = self.guide(new).with_name(self.guide(new).stem + ".guidedeck.lock")
                git(self.repo, "mv", str(self.lock().relative_to(self.repo)),
                    str(target.relative_to(self.repo)))  # fmt: skip
            return new
        if kind == "lose-lock":
            self.lock().unlink(missing_ok=True)
            return self.state
        if kind == "revert" and len(self.history) >= 2:
            parents = git(self.repo, "rev-list", "--parents", "-n", "1", "HEAD").stdout.split()
            mainline = ["-m", "1"] if len(parents) > 2 else []
            git(self.repo, "revert", "--no-commit", *mainline, "HEAD")
            return self.history[-2]
        if kind == "merge":
            return self._merge()
        return self.state

    def _merge(self) -> State:
        base = self.state
        git(self.repo, "checkout", "-q", "-b", "side")
        side = self.edited(base, question=0)
        self.write(side)
        self.user.sync()  # on the branch: not main's history
        commit_all(self.repo, "side: question 1")
        git(self.repo, "checkout", "-q", "main")
        main = self.edited(base, question=2, count=10_000)
        self.write(main)
        self.sync_and_commit("main: question 3", main)
        git(self.repo, "merge", "-q", "--no-edit", "side")
        git(self.repo, "branch", "-q", "-D", "side")
        merged = State(copy.deepcopy(side.model), base.name)
        merged.model.questions[2] = copy.deepcopy(main.model.questions[2])
        merged.model.count = main.model.count
        self.history.append(merged)  # the merge commit
        return merged

    def sync_and_commit(self, message: str, state: State) -> None:
        """Build, import, check the import was clean, commit guide and lock together."""
        measure = self.user.sync()
        assert measure.clean(), (message, measure)
        if commit_all(self.repo, message):
            self.history.append(state)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    seed=st.integers(0, 2**31),
    steps=st.lists(st.sampled_from(STEPS), min_size=3, max_size=6),
)
def test_git_moves_and_edits_never_lose_duplicate_or_swap(seed: int, steps: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        author = Author(Path(tmp), seed)
        author.write(author.state)
        author.sync_and_commit("first", author.state)
        author.history = author.history[1:]  # the first commit is the state itself
        try:
            for n, kind in enumerate(steps):
                state = author.step(kind)
                assert author.guide(state).read_text(encoding="utf-8") == text(state.model)
                author.sync_and_commit(f"{n}: {kind}", state)
                # one note per item ever made: removed items stay in Anki, nothing is doubled
                assert author.user.col.note_count() == len(author.user.holder), steps
        finally:
            author.user.col.close()
