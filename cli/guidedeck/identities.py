"""The *assign identities* stage: each card becomes a note with a GUID, note id, ``ID`` and mtime.

A card that continues a remembered note keeps that note's identity (its mtime too, unless its
fields changed: then a time newer than any emitted before, so Anki applies the update). A new
card gets identities that nothing remembered holds: :class:`Identities` hands them out from its
own copies of what the memory says is taken.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from guidedeck.cards import KINDS
from guidedeck.diagnostics import Diagnostic, SourceLoc
from guidedeck.identity import NoteIds, Taken, guid_for_key, uniquify
from guidedeck.kinds import CardKind
from guidedeck.lockfile import NoteEntry, NotetypeEntry
from guidedeck.memory import Memory
from guidedeck.notetypes import design, design_hash, schema_hash
from guidedeck.package import NoteData
from guidedeck.plan import GuideWork
from guidedeck.prepare import Prepared


@dataclass
class Identities:
    """Hands out identities for new notes, never one that is taken anywhere."""

    memory: Memory
    now: int
    guids: Taken[str] = field(init=False)
    ids: Taken[str] = field(init=False)
    """Every ``ID`` remembered and every one this build gave out."""
    note_ids: NoteIds = field(init=False)
    used_ids: set[str] = field(default_factory=set)
    """``ID`` values of this build's notes: no two may share one."""
    used_nids: set[int] = field(default_factory=set)
    """Note ids of this build's notes: two branches' builds in one second hand out equal ones."""
    fresh_mtime: int = field(init=False)
    """The mtime of a changed note: newer than anything emitted before (clocks can lag)."""
    renamed: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(old deck, new deck) -> how many continued notes changed deck."""

    def __post_init__(self) -> None:
        # views of what the record holds: a copy of each would grow with the number of notes
        self.guids, self.ids = Taken(self.memory.guids), Taken(self.memory.ids)
        self.note_ids = NoteIds(self.now, Taken(self.memory.nids))
        self.fresh_mtime = max(self.now, self.memory.high_water + 1)

    def new(self, key: str, content: str) -> tuple[str, str, int]:
        """``ID``, GUID and note id for a new note named ``key`` whose content hash is
        ``content``. The GUID comes from both: two branches that each add a card under one key
        (questions that share their first words) give them different GUIDs."""
        (id_field,) = uniquify([key], self.ids)
        guid = guid_for_key(f"{id_field}\x1f{content}")
        while guid in self.guids:
            guid = guid_for_key(guid + id_field)
        self.guids.add(guid)
        return id_field, guid, self.note_ids.take()

    def keep_as_left(self, guids: Sequence[str]) -> bool:
        """Take the ``ID`` values and note ids of remembered notes kept as they are, unless one
        is taken by this build already (then nothing is taken: the notes must be made anew)."""
        entries = [self.memory.notes[g].entry for g in guids]
        ids, nids = {e.id for e in entries}, {e.nid for e in entries}
        if len(ids) < len(entries) or len(nids) < len(entries):
            return False
        if ids & self.used_ids or nids & self.used_nids:
            return False
        self.used_ids |= ids
        self.used_nids |= nids
        return True

    def notes_of(
        self, work: GuideWork, prepared: Prepared, deck: str
    ) -> tuple[list[NoteData], list[NoteEntry]]:
        """The notes of one guide with their identities, and their lock entries."""
        notes, entries = [], []
        for card, matched in zip(prepared.cards, work.matched, strict=True):
            cand = card.candidate
            if matched is not None:
                status, id_field, guid, nid, mtime = self._continued(matched, card.fhash, deck)
            else:
                status, mtime = "added", self.now
                id_field, guid, nid = self.new(cand.key, cand.chash)
            self.used_ids.add(id_field)
            self.used_nids.add(nid)
            work.report.status[status] += 1
            # escaped although its alphabet holds no markup: templates put it in attributes
            fields = {"ID": html.escape(id_field), **card.fields}
            notes.append(NoteData(card.kind, fields, card.tags, guid, nid, mtime))
            entries.append(
                NoteEntry(id_field, guid, nid, cand.kind, KINDS[card.kind].notetype.model_id,
                          cand.key, cand.pos, mtime, card.fhash, cand.chash, cand.text)
            )  # fmt: skip
        work.report.counts.update(n.kind for n in notes)
        return notes, entries

    def _continued(self, guid: str, fhash: str, deck: str) -> tuple[str, str, str, int, int]:
        """Status, ``ID``, GUID, note id and mtime of a card that continues note ``guid``."""
        known = self.memory.notes[guid]
        before = known.entry
        id_field, nid = before.id, before.nid
        if id_field in self.used_ids:  # two branches gave one ID to two notes
            (id_field,) = uniquify([id_field], self.ids)
        if nid in self.used_nids:  # Anki keeps its own id for a note it has (by GUID)
            nid = self.note_ids.take()
        if before.fhash == fhash and not known.removed and id_field == before.id:
            status, mtime = "unchanged", before.mtime
        else:
            status, mtime = "changed", self.fresh_mtime
        if known.deck is not None and known.deck != deck:
            self.renamed[(known.deck, deck)] += 1
        return status, id_field, before.guid, nid, mtime


def notetype_entries(
    before: dict[str, NotetypeEntry], kinds: Sequence[CardKind], now: int, where: Path
) -> tuple[dict[str, NotetypeEntry], list[Diagnostic]]:
    """This build's notetype entries; refuse a notetype whose fields changed under the same id."""
    entries = dict(before)
    problems = []
    for kind in kinds:
        spec = KINDS[kind].notetype
        schema, looks = schema_hash(spec), design_hash(design(kind))
        known = before.get(kind.value)
        if known is not None and known.model_id == spec.model_id and known.schema != schema:
            problems.append(
                Diagnostic.error(
                    SourceLoc(str(where), 1),
                    f"the fields of notetype {spec.name!r} (id {spec.model_id}) differ from "
                    f"those recorded in {where.name}; Anki would copy the notetype and stop "
                    "updating your notes. Declare a new notetype version (a new id and name, "
                    "see README 'Changing a notetype') instead of changing its fields.",
                )
            )
            continue
        if known is None or known.model_id != spec.model_id:
            mtime = now
        elif known.design == looks:
            mtime = known.mtime
        else:
            mtime = max(now, known.mtime + 1)
        entries[kind.value] = NotetypeEntry(spec.model_id, schema, looks, mtime)
    return entries, problems


__all__ = ["Identities", "notetype_entries"]
