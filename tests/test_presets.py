"""Deck options in decks.yaml (issue #27): ``push`` brings them into a real collection as a preset
of the package's own, made on the first push, updated while it holds what guidedeck set, and left
to the learner once they change it in Anki. ``build`` says an .apkg cannot carry them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guidedeck.cli import main
from tests.test_push import Profile

PRESET = "guidedeck: networking"


def _configure(profile: Profile, preset: str) -> None:
    (profile.guides / "decks.yaml").write_text(
        f"version: 1\npackages:\n  - guides: [networking.md]\n    preset: {{{preset}}}\n"
    )


def _push(profile: Profile) -> tuple[int, str]:
    return profile.push(paths=(str(profile.guides),))


def _options(profile: Profile) -> dict[str, Any]:
    """The preset as Anki holds it, and which decks use it."""
    col = profile.open()
    try:
        conf = next((c for c in col.decks.all_config() if c["name"] == PRESET), None)
        if conf is None:
            return {}
        users = sorted(col.decks.name(d) for d in col.decks.decks_using_config(conf))
        return {
            "new": conf["new"]["perDay"], "reviews": conf["rev"]["perDay"],
            "retention": round(conf["desiredRetention"], 2), "max": conf["rev"]["maxIvl"],
            "decks": users,
        }  # fmt: skip
    finally:
        col.close()


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    return Profile(tmp_path)


def test_a_first_push_makes_the_preset_and_gives_it_to_the_decks(profile: Profile) -> None:
    _configure(profile, "new_per_day: 7, reviews_per_day: 70, desired_retention: 0.85, "
                        "max_interval: 180")  # fmt: skip
    code, output = _push(profile)
    assert code == 0, output
    assert f"options preset '{PRESET}' made, given to 1 deck(s)" in output
    got = _options(profile)
    assert got["new"] == 7 and got["reviews"] == 70 and got["retention"] == 0.85
    assert got["max"] == 180 and len(got["decks"]) == 1
    # a push with nothing new changes nothing, and says so
    code, output = _push(profile)
    assert code == 0 and f"options preset '{PRESET}' as it was" in output, output
    assert "backup:" not in output


def test_an_edit_in_decks_yaml_reaches_the_preset_while_it_is_guidedecks(
    profile: Profile,
) -> None:
    _configure(profile, "new_per_day: 7")
    assert _push(profile)[0] == 0
    _configure(profile, "new_per_day: 12")
    code, output = _push(profile)
    assert code == 0 and f"options preset '{PRESET}' updated" in output, output
    assert _options(profile)["new"] == 12


def test_once_the_learner_changes_the_preset_it_is_theirs(profile: Profile) -> None:
    _configure(profile, "new_per_day: 7")
    assert _push(profile)[0] == 0
    col = profile.open()
    try:
        conf = next(c for c in col.decks.all_config() if c["name"] == PRESET)
        conf["new"]["perDay"] = 3  # the learner's own choice, in Anki
        col.decks.update_config(conf)
    finally:
        col.close()
    _configure(profile, "new_per_day: 12")
    code, output = _push(profile)
    assert code == 0 and "was changed in Anki: left as it is" in output, output
    assert _options(profile)["new"] == 3


def test_a_deck_given_another_preset_keeps_it(profile: Profile) -> None:
    _configure(profile, "new_per_day: 7")
    assert _push(profile)[0] == 0
    col = profile.open()
    try:
        own = col.decks.add_config_returning_id("mine")
        for deck in col.decks.all_names_and_ids():
            if deck.name != "Default":
                d = col.decks.get(deck.id)
                col.decks.set_config_id_for_deck_dict(d, own)
                col.decks.save(d)
    finally:
        col.close()
    assert _push(profile)[0] == 0
    assert _options(profile)["decks"] == []


def test_a_dry_run_says_what_it_would_do_and_does_nothing(profile: Profile) -> None:
    _configure(profile, "new_per_day: 7")
    code, output = profile.push("--dry-run", paths=(str(profile.guides),))
    assert code == 0 and f"options preset '{PRESET}' would be made" in output, output
    assert _options(profile) == {}


@pytest.mark.parametrize(
    ("preset", "problem"),
    [("new_per_day: -1", "preset new_per_day must be a number from 0 to 9999"),
     ("desired_retention: 1.5", "preset desired_retention must be a number from 0.7 to 0.99"),
     ("daily_fun: 3", "unknown key 'daily_fun'")],
)  # fmt: skip
def test_a_bad_preset_is_a_located_error(profile: Profile, preset: str, problem: str) -> None:
    _configure(profile, preset)
    result = CliRunner().invoke(main, ["check", str(profile.guides)])
    assert result.exit_code == 1 and problem in result.output, result.output
    assert "decks.yaml:4:" in result.output


def test_build_says_an_apkg_cannot_carry_deck_options(profile: Profile) -> None:
    _configure(profile, "new_per_day: 7")
    result = CliRunner().invoke(main, ["build", str(profile.guides), "--out", str(profile.out)])
    assert result.exit_code == 0, result.output
    assert "an .apkg cannot carry them" in result.output
