"""The collection of a running Anki, reached through the AnkiConnect add-on (see
:mod:`guidedeck.targets` for what a target answers).

AnkiConnect names notes by note id and shows their fields, never their GUIDs: guidedeck's notes
are found by their ``ID`` field, which is set with the GUID when a note is first made and never
changes after. It gives no note mtime either: Anki's importer (the add-on's ``importPackage``)
still decides by mtime which notes to update, and the push counts what it did by reading the notes
back. The package is read by Anki from this machine's disk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from guidedeck.anki_connect import AnkiConnect, ConnectError
from guidedeck.cards import KINDS
from guidedeck.targets import (
    DEFAULT_DECK,
    DEFAULT_PRESET,
    TROUBLE,
    HeldCard,
    HeldNote,
    Studied,
)

OURS = '"note:guidedeck*"'
FLAGS = range(1, 8)
_F = TypeVar("_F", bound=Callable[..., Any])


def _shaped(method: _F) -> _F:
    """A reply of another shape than AnkiConnect's (whatever listens on the port is not trusted)
    is a :class:`ConnectError` with a message, never a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise ConnectError(
                f"{method.__name__}: AnkiConnect answered in another shape than its own "
                f"({type(exc).__name__}: {exc})"
            ) from None

    return wrapper  # type: ignore[return-value]


def _every_method_shaped(cls: type) -> type:
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("__"):
            setattr(cls, name, _shaped(value))
    return cls


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ConnectError("AnkiConnect answered with a field that is not text")
    return value


def _ints(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise ConnectError("AnkiConnect answered with ids that are not numbers")
    return value


@_every_method_shaped
class ConnectTarget:
    """A running Anki's collection, through AnkiConnect."""

    def __init__(self, client: AnkiConnect) -> None:
        self.client = client

    # --- reading ------------------------------------------------------------------------------
    def _our_notes(self, nids: list[int]) -> list[dict[str, Any]]:
        infos = self.client.call("notesInfo", notes=nids)
        if not isinstance(infos, list):
            raise ConnectError("notesInfo: AnkiConnect answered with something else than notes")
        return [i for i in infos if isinstance(i, dict) and i]

    def _card_places(self, cids: list[int]) -> dict[int, tuple[str, bool, bool]]:
        """card id -> (deck, in a filtered deck, suspended)."""
        decks, filtered, suspended = self.client.multi([
            ("getDecks", {"cards": cids}),
            ("findCards", {"query": f"{OURS} deck:filtered"}),
            ("findCards", {"query": f"{OURS} is:suspended"}),
        ])  # fmt: skip
        if not isinstance(decks, dict):
            raise ConnectError("getDecks: AnkiConnect answered with something else than decks")
        where = {cid: name for name, cards in decks.items() for cid in _ints(cards)}
        dyn, held = set(_ints(filtered)), set(_ints(suspended))
        return {cid: (where.get(cid, ""), cid in dyn, cid in held) for cid in cids}

    def notes(self, wanted: Mapping[str, str]) -> dict[str, HeldNote]:
        """By ``ID`` field (the add-on shows no GUIDs): every guidedeck note read once, then
        where its cards are, in one request."""
        guid_of = {id_field: guid for guid, id_field in wanted.items()}
        infos = [
            i for i in self._our_notes(_ints(self.client.call("findNotes", query=OURS)))
            if isinstance(i.get("fields"), dict)
            and _field(i, "ID") in guid_of
        ]  # fmt: skip
        places = self._card_places([c for i in infos for c in _ints(i.get("cards", []))])
        found: dict[str, HeldNote] = {}
        for info in infos:
            fields = _fields(info)
            spec = KINDS.by_notetype_name(str(info.get("modelName", "")))
            cards = tuple(HeldCard(c, *places[c]) for c in _ints(info.get("cards", [])))
            tags = tuple(_text(t) for t in info.get("tags", []))
            found[guid_of[fields[0]]] = HeldNote(
                int(info["noteId"]), fields[0], fields, None, spec.kind if spec else None,
                tags, cards,
            )  # fmt: skip
        return found

    def deck_names(self) -> set[str]:
        names = self.client.call("deckNames")
        return {_text(n) for n in names} if isinstance(names, list) else set()

    # --- changing -----------------------------------------------------------------------------
    def import_package(self, package: Path) -> int:
        """The add-on's ``importPackage`` (Anki reads the file from its own disk)."""
        if self.client.call("importPackage", path=str(package.resolve())) is not True:
            raise ConnectError("importPackage: Anki has no collection open (is a profile open?)")
        return 0  # what Anki refused shows when the notes are read back

    def move(self, cards: Sequence[int], deck: str) -> None:
        self.client.call("changeDeck", cards=list(cards), deck=deck)

    def remove_empty(self, decks: Iterable[str]) -> list[str]:
        """Never the Default deck, or a deck with a card or a child."""
        ids = self.client.call("deckNamesAndIds")
        if not isinstance(ids, dict):
            raise ConnectError("deckNamesAndIds: AnkiConnect answered with something else")
        names = set(ids)
        todo = sorted(d for d in set(decks) if d in names)
        counts = self.client.multi([("findCards", {"query": f'"deck:{_quoted(d)}"'}) for d in todo])
        empty = [
            d for d, cards in zip(todo, counts, strict=True)
            if not _ints(cards) and ids.get(d) != DEFAULT_DECK
            and not any(n.startswith(d + "::") for n in names)
        ]  # fmt: skip
        if empty:
            # the add-on removes decks only with their cards: these hold none
            self.client.call("deleteDecks", decks=empty, cardsToo=True)
        return empty

    def tag(self, nids: Sequence[int], tag: str) -> None:
        self.client.call("addTags", notes=list(nids), tags=tag)

    def suspend(self, cids: Sequence[int]) -> None:
        self.client.call("suspend", cards=list(cids))

    def delete(self, nids: Sequence[int]) -> None:
        self.client.call("deleteNotes", notes=list(nids))

    def export(self, deck: str, path: Path) -> None:
        """The deck with its reviews, as an ``.apkg`` written by Anki (a way back from a
        deletion: importing it with its scheduling brings the notes back)."""
        done = self.client.call("exportPackage", deck=deck, path=str(path), includeSched=True)
        if done is not True:
            raise ConnectError(f"exportPackage: Anki could not export {deck!r}")

    # --- presets ------------------------------------------------------------------------------
    def _configs(self, decks: Sequence[str]) -> list[Any]:
        return self.client.multi([("getDeckConfig", {"deck": d}) for d in decks])

    def preset(self, name: str) -> dict[str, Any] | None:
        """Only a preset some deck uses can be seen."""
        # the add-on shows a preset only through a deck that uses it
        for conf in self._configs(sorted(self.deck_names())):
            if isinstance(conf, dict) and conf.get("name") == name:
                return conf
        return None

    def on_default(self, decks: Iterable[str]) -> list[str]:
        """Each existing deck's preset, asked in one request."""
        names, wanted = self.deck_names(), sorted(set(decks))
        there = [d for d in wanted if d in names]
        confs = dict(zip(there, self._configs(there), strict=True))
        return [d for d in wanted if d not in confs or _on_default(confs[d])]

    def make_preset(self, name: str, decks: Sequence[str]) -> dict[str, Any]:
        """Cloned from Default, then read back through the first deck given it."""
        made = self.client.call("cloneDeckConfigId", name=name, cloneFrom=str(DEFAULT_PRESET))
        if not isinstance(made, int) or not decks:
            raise ConnectError(f"cloneDeckConfigId: Anki did not make the preset {name!r}")
        self.client.call("setDeckConfigId", decks=list(decks), configId=made)
        conf = self.client.call("getDeckConfig", deck=decks[0])
        if not isinstance(conf, dict) or conf.get("id") != made:
            raise ConnectError(f"getDeckConfig: the preset {name!r} is not on {decks[0]!r}")
        return conf

    def save_preset(self, conf: dict[str, Any]) -> None:
        if self.client.call("saveDeckConfig", config=conf) is not True:
            raise ConnectError(f"saveDeckConfig: Anki did not save the preset {conf.get('name')!r}")

    def give_preset(self, decks: Sequence[str], conf: dict[str, Any]) -> None:
        if decks:
            self.client.call("setDeckConfigId", decks=list(decks), configId=conf["id"])

    # --- triage -------------------------------------------------------------------------------
    def studied(self, lapses: int) -> list[Studied]:
        """By Anki's own search (:data:`guidedeck.targets.TROUBLE`) and one per flag."""
        cids = _ints(self.client.call("findCards", query=TROUBLE.format(lapses=lapses)))
        if not cids:
            return []
        wanted = set(cids)
        flagged = self.client.multi([("findCards", {"query": f"{OURS} flag:{n}"}) for n in FLAGS])
        flag = {c: n for n, found in zip(FLAGS, flagged, strict=True) for c in _ints(found)}
        # lapses and note of each card; cardsInfo renders each card, so only these are asked
        cards = self.client.call("cardsInfo", cards=cids)
        nids = sorted({int(c["note"]) for c in cards if isinstance(c, dict) and c})
        notes = {int(i["noteId"]): i for i in self._our_notes(nids)}
        out = []
        for card in cards:
            if not isinstance(card, dict) or not card or card.get("cardId") not in wanted:
                continue
            info = notes.get(int(card["note"]))
            if info is None:
                continue
            fields = dict(zip(_names(info), _fields(info), strict=True))
            tags = {str(t).casefold() for t in info.get("tags", [])}
            out.append(Studied(
                fields.get("ID", ""), fields, int(card.get("lapses", 0)),
                flag.get(card["cardId"], 0), "marked" in tags, "leech" in tags,
            ))  # fmt: skip
        return out


def _on_default(conf: Any) -> bool:
    return isinstance(conf, dict) and conf.get("id") == DEFAULT_PRESET and not conf.get("dyn")


def _names(info: dict[str, Any]) -> list[str]:
    fields = info["fields"]
    return sorted(fields, key=lambda n: int(fields[n].get("order", 0)))


def _fields(info: dict[str, Any]) -> tuple[str, ...]:
    return tuple(_text(info["fields"][n].get("value")) for n in _names(info))


def _field(info: dict[str, Any], name: str) -> str | None:
    value = info["fields"].get(name)
    return value.get("value") if isinstance(value, dict) else None


def _quoted(name: str) -> str:
    """A deck name inside an Anki search's double quotes (wildcards and quotes escaped)."""
    return "".join("\\" + ch if ch in '\\"*_' else ch for ch in name)


__all__ = ["ConnectTarget"]
