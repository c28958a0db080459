"""A first build (nothing remembered: no deck, no lock) stages each package as soon as its guides
are in, while the workers prepare the next ones (issue #28). With nothing remembered no card can
take a note across guides, so this must write exactly what staging after every guide is matched
writes: the same decks and locks, byte for byte, and the same report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import guidedeck.build
import guidedeck.commit
from guidedeck.cli import main
from tests.anki_engine import assert_every_deck_imports
from tests.conftest import FIXTURES, ROOT
from tests.test_media import GUIDE as IMAGE_GUIDE
from tests.test_media import png

IMPORTED: set[str] = set()
NOW = 1_790_000_000

DECKS_YAML = """\
version: 1
defaults:
  deck_prefix: First
packages:
  - guides: [tables.md, quick_check.md]
    output: two-guides.apkg
  - guides: [quick_check.md]
    output: shared.apkg
    kinds: [quiz]
  - guides: [empty.md]
    output: empty.apkg
  - guides: [diagrams.md, contrasts.md]
    output: images.apkg
  - guides: [backend-basics.md]
    output: sample.apkg
    deck: "First::One deck"
"""
"""Two guides in one package, a guide shared by two packages (its lock waits for both), a guide
that cannot be built between them, images, and a deck named by the configuration."""


def _project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("tables.md", "quick_check.md", "contrasts.md"):
        shutil.copyfile(FIXTURES / "parse" / name, folder / name)
    shutil.copyfile(ROOT / "deck_source" / "backend-basics.md", folder / "backend-basics.md")
    (folder / "empty.md").write_text("", encoding="utf-8")
    (folder / "diagrams.md").write_text(IMAGE_GUIDE, encoding="utf-8")
    (folder / "img").mkdir()
    (folder / "img" / "dns.png").write_bytes(png((200, 0, 0)))
    (folder / "img" / "tls.png").write_bytes(png((0, 0, 200)))
    (folder / "decks.yaml").write_text(DECKS_YAML, encoding="utf-8")
    return folder


def _first_build(folder: Path, jobs: str) -> tuple[int, list[str], dict[str, bytes]]:
    out = folder / "build"
    result = CliRunner().invoke(main, ["build", str(folder), "--out", str(out), "-j", jobs])
    assert "Traceback" not in result.output
    said = [line[: line.rindex(" in ")] if " package(s) " in line else line
            for line in result.output.replace(str(folder), "<project>").splitlines()]  # fmt: skip
    files = {p.relative_to(folder).as_posix(): p.read_bytes()
             for p in sorted(folder.rglob("*")) if p.suffix in (".apkg", ".lock")}  # fmt: skip
    return result.exit_code, said, files


def _guids(lock: str) -> list[str]:
    return sorted(json.loads(line)["guid"] for line in lock.splitlines()[1:])


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_staging_each_package_as_it_comes_writes_what_staging_at_the_end_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    monkeypatch.setattr(guidedeck.build, "time", SimpleNamespace(time=lambda: NOW))  # same ids
    staged_early: list[int] = []
    package = guidedeck.commit.Staging.package

    def watched(self: guidedeck.commit.Staging, n: int) -> None:
        staged_early.append(len(self.plan.work))  # guides in when package n is staged
        package(self, n)

    monkeypatch.setattr(guidedeck.commit.Staging, "package", watched)
    early = _first_build(_project(tmp_path / "early"), jobs)
    assert staged_early == [2, 3, 4, 6, 7], "each package staged once its own guides were in"

    staged_early.clear()
    monkeypatch.setattr(guidedeck.commit, "only_at_home", lambda plan: False)
    late = _first_build(_project(tmp_path / "late"), jobs)
    assert staged_early == [7, 7, 7, 7, 7], "staged once every guide was in"

    assert early == late
    code, said, files = early
    assert code == 1, said  # empty.md is an error: its package is not written
    assert "two-guides.apkg" in " ".join(said) and "empty.md" in " ".join(said)
    assert sorted(files) == [
        "backend-basics.guidedeck.lock", "build/images.apkg", "build/sample.apkg",
        "build/shared.apkg", "build/two-guides.apkg", "contrasts.guidedeck.lock",
        "diagrams.guidedeck.lock", "quick_check.guidedeck.lock", "tables.guidedeck.lock",
    ]  # fmt: skip
    decks = sorted((tmp_path / "early" / "build").glob("*.apkg"))
    assert_every_deck_imports(decks, tmp_path, IMPORTED)


def test_a_second_build_matches_across_guides_before_it_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once something is remembered, a card may take a note from another guide (here, of a
    guide renamed): no package is staged before every guide is matched, and the renamed
    guide's cards keep their notes."""
    folder = _project(tmp_path / "p")
    _first_build(folder, "1")
    before = (folder / "tables.guidedeck.lock").read_text(encoding="utf-8")
    (folder / "tables.md").rename(folder / "renamed.md")
    (folder / "decks.yaml").write_text(DECKS_YAML.replace("[tables.md,", "[renamed.md,"),
                                       encoding="utf-8")  # fmt: skip
    seen: list[int] = []
    package = guidedeck.commit.Staging.package

    def watched(self: guidedeck.commit.Staging, n: int) -> None:
        seen.append(len(self.plan.work))
        package(self, n)

    monkeypatch.setattr(guidedeck.commit.Staging, "package", watched)
    code, said, files = _first_build(folder, "2")
    assert seen == [7, 7, 7, 7, 7], said
    assert code == 1, said  # empty.md, as before
    assert len(_guids(before)) == 5
    assert _guids(files["renamed.guidedeck.lock"].decode()) == _guids(before)
    assert_every_deck_imports(sorted((folder / "build").glob("*.apkg")), tmp_path, IMPORTED)
