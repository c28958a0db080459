"""The wheel carries templates and the sample; installed in a fresh venv it builds a real deck."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from tests.anki_engine import assert_healthy_import, fresh_collection, import_package
from tests.conftest import ROOT


def sh(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_installs_and_builds_from_another_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, ROOT)
    (wheel,) = dist.glob("guidedeck-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("guidedeck/py.typed", "guidedeck/templates/style.css",
                   "guidedeck/templates/quiz/front.html", "guidedeck/deck_source/decks.yaml",
                   "guidedeck/deck_source/backend-basics.md"):  # fmt: skip
        assert needed in names

    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    sh(python, "-m", "pip", "install", "--quiet", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = sh(env / "bin" / "guidedeck", "build", "--out", "decks", cwd=elsewhere)
    assert "1 of 1 package(s) written" in out
    apkg = elsewhere / "decks" / "backend-basics.apkg"
    col = fresh_collection(tmp_path / "anki")
    try:
        assert_healthy_import(col, import_package(col, apkg), 26)
    finally:
        col.close()


def test_a_lock_written_beside_the_sample_never_ships(tmp_path: Path) -> None:
    """``guidedeck build`` in the checkout writes the sample's lock into ``deck_source/``; the
    next wheel must not carry it (installed elsewhere, it gave the sample other IDs)."""
    import shutil

    checkout = tmp_path / "checkout"
    for part in ("cli", "templates", "deck_source"):
        shutil.copytree(ROOT / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE", "SECURITY.md"):
        shutil.copyfile(ROOT / name, checkout / name)
    (checkout / "deck_source" / "backend-basics.guidedeck.lock").write_text('{"version": 2}\n')
    dist = tmp_path / "dist"
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, checkout)
    (wheel,) = dist.glob("guidedeck-*.whl")
    shipped = [n for n in zipfile.ZipFile(wheel).namelist() if "deck_source" in n]
    assert sorted(shipped) == [
        "guidedeck/deck_source/backend-basics.md", "guidedeck/deck_source/decks.yaml"
    ]  # fmt: skip
