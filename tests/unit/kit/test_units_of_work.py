"""Units of work, specified in memory: what is kept, what is run again, what
takes effect once, and the update sequence every versioned entity follows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from kit import errors, etag, paging
from kit.idempotency import Key
from kit.memory import Memory, MemoryUnitOfWork, State
from kit.uow import CONFLICT, Units, revise

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Note:
    id: str
    text: str
    version: int = 1


@dataclass
class Notes(State):
    rows: dict[str, Note] = field(default_factory=dict)
    runs: int = 0


class NoteUnit(MemoryUnitOfWork[Notes]):
    async def save(self, note: Note, expected_version: int) -> bool:
        current = self.state.rows.get(note.id)
        if current is not None and current.version != expected_version:
            return False
        self.state.rows[note.id] = note
        return True


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def memory() -> Memory[Notes]:
    return Memory(Notes())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def units(memory: Memory[Notes], clock: Clock) -> Units[NoteUnit]:
    def opener(*, read_only: bool) -> NoteUnit:
        return NoteUnit(memory, read_only=read_only)

    return Units(opener, clock)


async def add(uow: NoteUnit) -> str:
    uow.state.runs += 1
    uow.state.rows["n1"] = Note("n1", f"run {uow.state.runs}")
    return uow.state.rows["n1"].text


async def test_a_unit_keeps_its_changes_only_when_committed(
    units: Units[NoteUnit], memory: Memory[Notes]
) -> None:
    async with units.write() as uow:
        await add(uow)
    assert memory.state.rows == {}

    async with units.write() as uow:
        await add(uow)
        await uow.commit()
    assert memory.state.rows["n1"].text == "run 1"


async def test_work_that_fails_half_way_keeps_nothing(units: Units[NoteUnit], memory: Memory[Notes]) -> None:
    async def half(uow: NoteUnit) -> None:
        await add(uow)
        raise errors.FailedPrecondition("refused after writing")

    with pytest.raises(errors.FailedPrecondition):
        await units.run(half)
    assert memory.state.rows == {}
    assert memory.commits == 0


async def test_run_starts_again_after_a_conflict_and_only_after_a_conflict(units: Units[NoteUnit]) -> None:
    attempts: list[int] = []

    async def conflicting_twice(uow: NoteUnit) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise errors.Aborted("chosen as the deadlock victim", reason=CONFLICT)
        return await add(uow)

    assert await units.run(conflicting_twice) == "run 1"
    assert len(attempts) == 3

    async def stale(uow: NoteUnit) -> None:
        attempts.append(1)
        raise errors.EtagMismatch("notes/n1")

    attempts.clear()
    with pytest.raises(errors.EtagMismatch):
        await units.run(stale)
    assert len(attempts) == 1, "a stale etag is the client's to resolve, never retried"


async def test_run_gives_up_after_its_attempts(units: Units[NoteUnit]) -> None:
    async def always(uow: NoteUnit) -> None:
        raise errors.Aborted("conflict", reason=CONFLICT)

    with pytest.raises(errors.Aborted):
        await units.run(always)


async def test_a_repeated_request_id_returns_the_first_result_without_running_again(
    units: Units[NoteUnit], memory: Memory[Notes]
) -> None:
    key = Key("tenant-a", "req-1", "AddNote")
    first = await units.once(key, {"text": "x"}, str)(add)
    again = await units.once(key, {"text": "x"}, str)(add)
    assert first == again == "run 1"
    assert memory.state.runs == 1


async def test_a_request_id_is_scoped_to_its_tenant(units: Units[NoteUnit], memory: Memory[Notes]) -> None:
    await units.once(Key("tenant-a", "req-1", "AddNote"), {}, str)(add)
    await units.once(Key("tenant-b", "req-1", "AddNote"), {}, str)(add)
    assert memory.state.runs == 2


@pytest.mark.parametrize(
    ("operation", "command"), [("AddNote", {"text": "other"}), ("RemoveNote", {"text": "x"})]
)
async def test_a_request_id_sent_again_with_another_command_is_refused(
    units: Units[NoteUnit], memory: Memory[Notes], operation: str, command: dict[str, str]
) -> None:
    await units.once(Key("t", "req-1", "AddNote"), {"text": "x"}, str)(add)
    with pytest.raises(errors.InvalidArgument) as refused:
        await units.once(Key("t", "req-1", operation), command, str)(add)
    assert refused.value.reason == "REQUEST_ID_REUSED"
    assert memory.state.runs == 1


async def test_a_request_that_failed_leaves_no_claim_so_its_retry_runs(
    units: Units[NoteUnit], memory: Memory[Notes]
) -> None:
    key = Key("t", "req-1", "AddNote")

    async def refused(uow: NoteUnit) -> str:
        raise errors.Unavailable("a neighbour is down")

    with pytest.raises(errors.Unavailable):
        await units.once(key, {}, str)(refused)
    assert await units.once(key, {}, str)(add) == "run 1"


async def test_a_claim_is_forgotten_after_its_retention(
    units: Units[NoteUnit], memory: Memory[Notes], clock: Clock
) -> None:
    key = Key("t", "req-1", "AddNote")
    await units.once(key, {}, str, retention=timedelta(minutes=5))(add)
    clock.now += timedelta(minutes=6)
    await units.once(key, {}, str, retention=timedelta(minutes=5))(add)
    assert memory.state.runs == 2


@pytest.mark.parametrize("request_id", ["", "x" * 129, "tab\there"])
async def test_a_bad_request_id_is_refused_before_any_work(units: Units[NoteUnit], request_id: str) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        units.once(Key("t", request_id, "AddNote"), {}, str)
    assert "request_id" in {v.field for v in refused.value.violations}


async def test_the_claim_row_of_a_batched_statement_carries_the_injected_time(units: Units[NoteUnit]) -> None:
    once = units.once(Key("t", "req-1", "AddNote"), {"text": "x"}, str)
    row = once.row("done", NOW)
    assert row["created_at"] == NOW
    assert row["expires_at"] == NOW + timedelta(hours=24)
    assert row["result"] == b'"done"'


# --- revise: the update sequence of a versioned entity ---------------------------


def renamed(note: Note) -> Note:
    return replace(note, text="renamed")


async def revise_note(uow: NoteUnit, note_id: str, given_etag: str) -> Note:
    return await revise(
        uow.state.rows.get(note_id),
        renamed,
        uow.save,
        kind="note",
        name=f"notes/{note_id}",
        given_etag=given_etag,
    )


async def test_revise_saves_the_change_with_the_next_version(
    units: Units[NoteUnit], memory: Memory[Notes]
) -> None:
    memory.state.rows["n1"] = Note("n1", "first")
    changed = await units.run(lambda uow: revise_note(uow, "n1", etag.etag("notes/n1", 1)))
    assert changed == Note("n1", "renamed", version=2)
    assert memory.state.rows["n1"] == changed


async def test_revise_of_a_missing_entity_is_not_found(units: Units[NoteUnit]) -> None:
    with pytest.raises(errors.NotFound):
        await units.run(lambda uow: revise_note(uow, "n9", ""))


async def test_revise_with_a_stale_etag_is_aborted_and_changes_nothing(
    units: Units[NoteUnit], memory: Memory[Notes]
) -> None:
    memory.state.rows["n1"] = Note("n1", "first", version=3)
    with pytest.raises(errors.EtagMismatch):
        await units.run(lambda uow: revise_note(uow, "n1", etag.etag("notes/n1", 2)))
    assert memory.state.rows["n1"].text == "first"


async def test_revise_refuses_when_another_writer_saved_first(units: Units[NoteUnit]) -> None:
    async def raced(uow: NoteUnit) -> Note:
        uow.state.rows["n1"] = Note("n1", "first", version=1)

        async def lost(note: Note, expected_version: int) -> bool:
            return False  # another transaction saved version 2 in between

        return await revise(uow.state.rows["n1"], renamed, lost, kind="note", name="notes/n1", given_etag="")

    with pytest.raises(errors.EtagMismatch):
        await units.run(raced)


# --- paging --------------------------------------------------------------------


def test_a_page_cut_from_one_row_too_many_carries_the_cursor_of_its_last_row() -> None:
    page = paging.page_of([1, 2, 3], 2, lambda n: {"after": n})
    assert page.items == [1, 2]
    assert paging.decode(page.next_page_token) == {"after": 2}


def test_the_last_page_has_no_token() -> None:
    assert paging.page_of([1, 2], 2, lambda n: {"after": n}) == paging.Page([1, 2], "")
    assert paging.page_of([], 2, lambda n: {"after": n}) == paging.Page([], "")


async def test_earlier_tells_a_replay_before_any_work_and_takes_no_effect(
    units: Units[NoteUnit], memory: Memory[Notes]
) -> None:
    once = units.once(Key("t", "req-1", "AddNote"), {}, str)
    assert await once.earlier() is None
    assert memory.state.claims == {}, "the probing claim was rolled back"
    await once(add)
    assert await units.once(Key("t", "req-1", "AddNote"), {}, str).earlier() == "run 1"


async def test_a_forgotten_claim_lets_the_same_request_take_effect_afresh(
    units: Units[NoteUnit], memory: Memory[Notes]
) -> None:
    key = Key("t", "req-1", "AddNote")
    await units.once(key, {}, str)(add)

    async def undo(uow: NoteUnit) -> None:
        del uow.state.rows["n1"]
        await uow.claims.forget(key)

    await units.run(undo)
    assert await units.once(key, {}, str)(add) == "run 2"
