"""The notes of cache invalidations a write could not deliver to Redis, kept
in the catalog's database for every replica (kit.cache.MissedLog), on the fakes."""

from __future__ import annotations

from datetime import timedelta

from kit.memory import Memory
from svc_catalog.usecases.cache import MissedInDatabase
from tests.fakes import catalog as fake
from tests.unit.catalog.conftest import START, Clock


def log() -> tuple[MissedInDatabase, Clock, Memory[fake.CatalogState]]:
    clock = Clock()
    memory = Memory(fake.CatalogState())
    return MissedInDatabase(fake.units(clock, memory), keep=timedelta(minutes=10)), clock, memory


async def test_a_note_is_read_back_by_anyone_reading_from_before_it() -> None:
    missed, clock, _ = log()
    await missed.note({"k:2", "k:1"})
    clock.advance(5)
    await missed.note({"k:3"})

    everything = await missed.since(START)
    later = await missed.since(START + timedelta(seconds=1))

    assert [(n.keys, n.at) for n in everything] == [(("k:1", "k:2"), START), (("k:3",), clock.now)]
    assert [n.keys for n in later] == [("k:3",)]
    assert everything[0].id < everything[1].id


async def test_notes_older_than_the_kept_time_are_dropped_when_a_new_one_is_taken() -> None:
    missed, clock, memory = log()
    await missed.note({"old"})
    clock.advance(11 * 60)

    await missed.note({"new"})

    assert [n.keys for n in memory.state.missed] == [("new",)]
