"""Deck options from ``decks.yaml`` (``preset:``), applied by ``push``: an ``.apkg`` cannot carry
them. Each package gets an options preset of its own, ``guidedeck: <package>``, made on its first
push and given to its decks that still use Anki's default preset. Later pushes update it only
while it still holds what guidedeck last set: once the learner changes it in Anki, it is theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guidedeck.targets import Target

MARK = "guidedeck"
"""The key in the preset's own record where guidedeck keeps the values it last set."""


@dataclass(frozen=True, slots=True)
class Option:
    """One option ``preset:`` may set: where Anki keeps it in a preset, and its bounds."""

    place: tuple[str, ...]
    low: float
    high: float
    kind: type = int

    def get(self, conf: dict[str, Any]) -> Any:
        """The option's value in preset ``conf``."""
        *groups, name = self.place
        for group in groups:
            conf = conf[group]
        return conf.get(name)

    def put(self, conf: dict[str, Any], value: Any) -> None:
        """Set the option in preset ``conf``."""
        *groups, name = self.place
        for group in groups:
            conf = conf[group]
        conf[name] = value


OPTIONS = {
    "new_per_day": Option(("new", "perDay"), 0, 9999),
    "reviews_per_day": Option(("rev", "perDay"), 0, 99999),
    "desired_retention": Option(("desiredRetention",), 0.7, 0.99, float),
    "max_interval": Option(("rev", "maxIvl"), 1, 36500),
}
"""The options ``preset:`` may set, by decks.yaml's names."""

KEYS = tuple(OPTIONS)


@dataclass(frozen=True, slots=True)
class Preset:
    """Deck options a package asks for (None: left at Anki's default)."""

    new_per_day: int | None = None
    reviews_per_day: int | None = None
    desired_retention: float | None = None
    max_interval: int | None = None

    def values(self) -> dict[str, Any]:
        """The options given, by decks.yaml name."""
        return {k: getattr(self, k) for k in KEYS if getattr(self, k) is not None}


def _set(conf: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        OPTIONS[key].put(conf, value)
    conf[MARK] = dict(values)


def _held(conf: dict[str, Any]) -> dict[str, Any]:
    """What the preset holds now of the options guidedeck set last."""
    return {k: OPTIONS[k].get(conf) for k in conf.get(MARK, {})}


def apply_preset(
    target: Target, name: str, preset: Preset, decks: Iterable[str], dry: bool
) -> tuple[bool, str]:
    """Bring preset ``name`` to ``preset`` in the collection (``dry``: only say what would
    happen) and give it to ``decks`` that use Anki's Default preset: whether that changes the
    collection, and a sentence saying what happened. A preset is made only for a deck to use."""
    wanted = preset.values()
    conf = target.preset(name)
    if conf is not None and _held(conf) != conf.get(MARK, {}):
        return False, f"options preset {name!r} was changed in Anki: left as it is"
    waiting = target.on_default(decks)
    would = "would be " if dry else ""
    if conf is None and not waiting:
        return False, f"options preset {name!r} not made: every deck of it has a preset of its own"
    if conf is None:
        changed, said = True, f"options preset {name!r} {would}made"
        if not dry:
            conf = target.make_preset(name, waiting)
    else:
        changed = conf.get(MARK) != wanted
        said = f"options preset {name!r} {would}updated" if changed else (
            f"options preset {name!r} as it was")  # fmt: skip
    if conf is not None and not dry:
        if changed:
            _set(conf, wanted)
            target.save_preset(conf)
        target.give_preset(waiting, conf)
    if waiting:
        said += f", {would}given to {len(waiting)} deck(s)"
    return changed or bool(waiting), said
