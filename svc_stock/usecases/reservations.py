"""Reservations: hold stock for an order, all lines or none, until it ships
(commit), is given up (release) or lapses (expiry, swept in the background)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, etag, idempotency, paging
from kit.batching import Coalescer
from kit.db import Database
from kit.errors import InvalidArgument, NotFound, Violations
from kit.identity import Principal
from svc_stock import commands, domain, store
from svc_stock.domain import (
    Change,
    InsufficientStock,
    Movement,
    MovementType,
    Provenance,
    Reservation,
    ReservationOutcome,
    ReservationReceipt,
    ReservationState,
)
from svc_stock.usecases.ledger import book

log = logging.getLogger(__name__)

# Reservations written together at most: a batch's statements grow with it,
# and its level locks are held while they run.
MAX_BATCH = 64


def reservation_name(reservation_id: str) -> str:
    return f"reservations/{reservation_id}"


def reservation_etag(r: Reservation) -> str:
    return etag.etag(reservation_name(r.id), r.version)


@dataclass(frozen=True)
class _Pending:
    """A reservation waiting for its batch: what it will write if granted."""

    new: store.NewReservation
    claim: dict[str, Any]

    @property
    def lines(self) -> tuple[domain.Line, ...]:
        return self.new.reservation.lines


class _NothingGranted(Exception):
    """Rolls back a batch that granted nothing, with its claims."""


def _granted_outcome(pending: _Pending, grant: domain.Grant) -> ReservationOutcome:
    """What a reservation granted in a batch returns: its RESERVE movements
    and the levels right after it."""
    reservation, who, now = pending.new.reservation, pending.new.who, grant.at
    movements = tuple(
        Movement(
            id=movement_id,
            sequence=level.last_movement_sequence,
            type=MovementType.RESERVE,
            warehouse_id=line.warehouse_id,
            sku=line.sku,
            quantity_delta=0,
            reserved_delta=line.quantity,
            on_hand_after=level.on_hand,
            reserved_after=level.reserved,
            reason=None,
            note="",
            reference=reservation.reference,
            reservation_id=reservation.id,
            counterpart_warehouse_id="",
            user_id=who.user_id,
            caller=who.caller,
            request_id=who.request_id,
            trace_id=who.trace_id,
            effective_at=now,
            created_at=now,
        )
        for movement_id, line, level in zip(
            pending.new.movement_ids, reservation.lines, grant.levels, strict=True
        )
    )
    return ReservationOutcome(reservation, movements, grant.levels)


@dataclass(frozen=True)
class Page:
    reservations: list[Reservation]
    next_page_token: str


class Reservations:
    def __init__(
        self, db: Database, clock: Callable[[], datetime], *, system: Provenance, max_batch: int = MAX_BATCH
    ) -> None:
        self.db = db
        self.now = clock
        self.system = system  # provenance of the sweeper's EXPIRE movements
        # PostgreSQL: concurrent reservations of a tenant are granted in
        # batches (one lock and commit of a hot level per batch). SQLite
        # has one writer at a time anyway.
        self._batches: Coalescer[_Pending, ReservationOutcome | None] | None = (
            Coalescer("reservations", self._reserve_batch, max_batch=max_batch)
            if db.dialect == "postgresql"
            else None
        )
        # Tenants whose last batch could not be granted whole: their next one
        # is decided one reservation at a time straight away.
        self._scarce: set[str] = set()

    async def reserve(self, who: Principal, origin: Provenance, cmd: commands.Reserve) -> ReservationOutcome:
        now = self.now()
        expire_at = cmd.expiry.resolve(now, domain.DEFAULT_HOLD)
        self._check(cmd, expire_at, now)
        key = idempotency.Key(who.tenant_id, origin.request_id, "CreateReservation")
        idempotency.validate_request_id(key.request_id)
        if self._batches is not None:
            reservation = domain.new_reservation(who.tenant_id, cmd.reference, cmd.lines, expire_at, now)
            receipt = ReservationReceipt(reservation, tuple(str(uuid.uuid4()) for _ in cmd.lines))
            claim = idempotency.claim_row(
                key, idempotency.fingerprint(cmd), now, result=msgspec.json.encode(receipt)
            )
            new = store.NewReservation(reservation, receipt.movement_ids, origin)
            granted = await self._batches.submit(who.tenant_id, _Pending(new, claim))
            if granted is not None:
                return granted
        # SQLite, a repeated request_id, or a short line: the general path,
        # which replays, or grants, or names every short line.
        attempt = self._reserve_work(who, origin, cmd, expire_at)
        try:
            receipt = await idempotency.once(
                self.db, store.idempotency_records, key, cmd, ReservationReceipt, attempt
            )
        except InsufficientStock as short:
            # Holds past their expiry still count until swept; free those on
            # the short levels now and try once more before refusing.
            keys = [(line.warehouse_id, line.sku) for line in cmd.lines]
            if not await self.expire_lapsed_on(who.tenant_id, keys):
                raise short
            receipt = await idempotency.once(
                self.db, store.idempotency_records, key, cmd, ReservationReceipt, attempt
            )
        return await self._outcome_of(who.tenant_id, receipt)

    async def _reserve_batch(self, tenant_id: str, batch: list[_Pending]) -> list[ReservationOutcome | None]:
        """Grant what can be granted of a batch of one tenant's reservations;
        None for the others (a repeated request_id, a short or unknown line),
        which then take the general path. Nothing of a failed batch is written."""
        outcomes: list[ReservationOutcome | None] = [None] * len(batch)
        first_of: dict[str, int] = {}
        for i, pending in enumerate(batch):
            # The same request_id twice in one batch: the later one replays the first.
            first_of.setdefault(pending.claim["request_id"], i)
        chosen = sorted(first_of.values())
        try:
            granted: list[tuple[int, domain.Grant]] | None = None
            if tenant_id not in self._scarce:
                granted = await self._grant_whole(tenant_id, batch, chosen)
            if granted is None:
                granted = await self._grant_one_by_one(tenant_id, batch, chosen)
        except errors.Aborted:
            # Chosen as a deadlock victim: nothing was written, and the
            # general path decides each one on its own.
            return outcomes
        # Plentiful stock: the next batch is tried whole, in one statement.
        if len(granted) == len(chosen):
            self._scarce.discard(tenant_id)
        else:
            self._scarce.add(tenant_id)
        for i, grant in granted:
            outcomes[i] = _granted_outcome(batch[i], grant)
        return outcomes

    async def _grant_whole(
        self, tenant_id: str, batch: list[_Pending], chosen: list[int]
    ) -> list[tuple[int, domain.Grant]] | None:
        """Every chosen reservation in one statement, or None and nothing written."""
        now = self.now()
        async with self.db.driver_autocommit() as conn:
            done = await store.reserve_whole(
                conn, tenant_id, [batch[i].claim for i in chosen], [batch[i].new for i in chosen], now
            )
        if done is None:
            return None
        first, before = done
        grants, _ = domain.grant_in_order(before, [batch[i].lines for i in chosen], now, first_sequence=first)
        if len(grants) != len(chosen):  # pragma: no cover - the statement granted them all
            raise RuntimeError("a batch granted whole did not replay whole")
        return [(chosen[g.index], g) for g in grants]

    async def _grant_one_by_one(
        self, tenant_id: str, batch: list[_Pending], chosen: list[int]
    ) -> list[tuple[int, domain.Grant]]:
        """Under the level locks, each reservation in turn, whole or not at all."""
        keys = [(line.warehouse_id, line.sku) for i in chosen for line in batch[i].lines]
        try:
            async with self.db.driver_transaction() as conn:
                claimed, levels = await store.claim_and_lock(
                    conn, tenant_id, [batch[i].claim for i in chosen], keys
                )
                candidates = [i for i in chosen if batch[i].claim["request_id"] in claimed]
                now = self.now()
                grants, _ = domain.grant_in_order(levels, [batch[i].lines for i in candidates], now)
                if not grants:
                    raise _NothingGranted
                granted = [candidates[g.index] for g in grants]
                first = await store.write_reservations(
                    conn,
                    tenant_id,
                    [batch[i].new for i in granted],
                    sorted(claimed - {batch[i].claim["request_id"] for i in granted}),
                    now,
                )
        except _NothingGranted:
            return []
        return [(i, g.numbered(first)) for i, g in zip(granted, grants, strict=True)]

    async def _outcome_of(self, tenant_id: str, receipt: ReservationReceipt) -> ReservationOutcome:
        """The response to a reservation, rebuilt from what it wrote: its RESERVE
        movements carry the level quantities right after it."""
        async with self.db.snapshot() as conn:
            written = await store.movements_by_id(conn, tenant_id, receipt.movement_ids)
            current = await store.levels_by_key(conn, tenant_id, [(m.warehouse_id, m.sku) for m in written])
        levels = tuple(
            dataclasses.replace(
                current.get((m.warehouse_id, m.sku)) or domain.empty_level(m.warehouse_id, m.sku),
                on_hand=m.on_hand_after,
                reserved=m.reserved_after,
                last_movement_sequence=m.sequence,
            )
            for m in written
        )
        return ReservationOutcome(receipt.reservation, tuple(written), levels)

    def _check(self, cmd: commands.Reserve, expire_at: datetime, now: datetime) -> None:
        violations = Violations()
        if not cmd.reference.strip():
            violations.add("reservation.reference", "required")
        domain.check_line_count(len(cmd.lines), "reservation.lines", violations)
        domain.check_unique(
            [(line.warehouse_id, line.sku) for line in cmd.lines],
            "reservation.lines",
            "SKU and warehouse",
            violations,
        )
        for i, line in enumerate(cmd.lines):
            domain.check_sku(line.sku, f"reservation.lines[{i}].sku", violations)
            domain.check_positive(line.quantity, f"reservation.lines[{i}].quantity", violations)
        domain.check_hold(expire_at, now, "reservation.expire_time", violations)
        violations.raise_if_any()

    def _reserve_work(
        self, who: Principal, origin: Provenance, cmd: commands.Reserve, expire_at: datetime
    ) -> Callable[[AsyncConnection], Awaitable[ReservationReceipt]]:
        async def work(conn: AsyncConnection) -> ReservationReceipt:
            await self._warehouses_of(conn, who.tenant_id, cmd)
            now = self.now()
            reservation = domain.new_reservation(who.tenant_id, cmd.reference, cmd.lines, expire_at, now)
            # The new rows first: they contend with nobody, so the level locks
            # taken by `book` are held only for the level updates, the ledger
            # insert and the commit.
            await store.insert_reservation(conn, reservation)
            changes = [
                Change(
                    MovementType.RESERVE,
                    line.warehouse_id,
                    line.sku,
                    reserved_delta=line.quantity,
                    reference=reservation.reference,
                    reservation_id=reservation.id,
                )
                for line in cmd.lines
            ]
            outcome = await book(conn, who.tenant_id, changes, origin, now)
            return ReservationReceipt(reservation, tuple(m.id for m in outcome.movements))

        return work

    async def _warehouses_of(self, conn: AsyncConnection, tenant_id: str, cmd: commands.Reserve) -> None:
        ids = [line.warehouse_id for line in cmd.lines]
        found = await store.warehouses_by_id(conn, tenant_id, ids)
        unknown = [
            errors.FieldViolation(f"reservation.lines[{i}].warehouse", "no such warehouse")
            for i, line in enumerate(cmd.lines)
            if line.warehouse_id not in found
        ]
        if unknown:
            raise InvalidArgument(unknown, reason="UNKNOWN_WAREHOUSE")
        for warehouse in found.values():
            domain.warehouse_accepts_changes(warehouse)

    async def get(self, who: Principal, reservation_id: str) -> Reservation:
        async with self.db.snapshot() as conn:
            found = await store.reservation(conn, who.tenant_id, reservation_id)
        if found is None:
            raise NotFound("reservation", reservation_name(reservation_id))
        return self._as_seen(found)

    def _as_seen(self, reservation: Reservation) -> Reservation:
        """What callers see: a lapsed hold reads EXPIRED even before the sweep."""
        state = reservation.state_at(self.now())
        if state is reservation.state:
            return reservation
        return dataclasses.replace(reservation, state=state, ended_at=reservation.expire_at)

    async def list_reservations(self, who: Principal, query: commands.ListReservations) -> Page:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        before = (datetime.fromisoformat(str(cursor["t"])), str(cursor["id"])) if "t" in cursor else None
        async with self.db.snapshot() as conn:
            found = await store.list_reservations(
                conn,
                who.tenant_id,
                state=query.state,
                now=self.now(),
                reference=query.reference,
                warehouse_id=query.warehouse_id,
                sku=query.sku,
                before=before,
                limit=size + 1,
            )
        more = len(found) > size
        found = found[:size]
        token = paging.encode({"t": found[-1].created_at.isoformat(), "id": found[-1].id}) if more else ""
        return Page([self._as_seen(r) for r in found], token)

    async def extend(self, who: Principal, request_id: str, cmd: commands.Extend) -> Reservation:
        async def work(conn: AsyncConnection) -> Reservation:
            now = self.now()
            current = await self._current(conn, who.tenant_id, cmd.reservation_id, cmd.etag)
            domain.reservation_is_active(current, now)
            expire_at = cmd.expiry.resolve(now, domain.DEFAULT_HOLD)
            violations = Violations()
            if expire_at < current.expire_at:
                violations.add("expire_time", "earlier than the current expiry")
            domain.check_hold(expire_at, now, "expire_time", violations)
            violations.raise_if_any()
            changed = dataclasses.replace(
                current, expire_at=expire_at, updated_at=now, version=current.version + 1
            )
            await self._save(conn, current, changed)
            return changed

        key = idempotency.Key(who.tenant_id, request_id, "ExtendReservation")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Reservation, work)

    async def release(self, who: Principal, origin: Provenance, cmd: commands.Release) -> ReservationOutcome:
        async def work(conn: AsyncConnection) -> ReservationOutcome:
            now = self.now()
            current = await self._current(conn, who.tenant_id, cmd.reservation_id, cmd.etag)
            if not domain.releasable(current, now):
                if current.state is ReservationState.ACTIVE:  # lapsed, not yet swept: sweep it now
                    return await self._end(conn, current, ReservationState.EXPIRED, self.system, now)
                return ReservationOutcome(self._as_seen(current), (), ())
            return await self._end(conn, current, ReservationState.RELEASED, origin, now)

        key = idempotency.Key(who.tenant_id, origin.request_id, "ReleaseReservation")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, ReservationOutcome, work)

    async def commit(self, who: Principal, origin: Provenance, cmd: commands.Commit) -> ReservationOutcome:
        now = self.now()
        if cmd.ship_time is not None and cmd.ship_time > now:
            raise InvalidArgument([errors.FieldViolation("ship_time", "in the future")])

        async def work(conn: AsyncConnection) -> ReservationOutcome:
            now = self.now()
            current = await self._current(conn, who.tenant_id, cmd.reservation_id, cmd.etag)
            domain.reservation_is_active(current, now)
            return await self._end(conn, current, ReservationState.COMMITTED, origin, now, cmd.ship_time)

        key = idempotency.Key(who.tenant_id, origin.request_id, "CommitReservation")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, ReservationOutcome, work)

    async def _end(
        self,
        conn: AsyncConnection,
        current: Reservation,
        state: ReservationState,
        origin: Provenance,
        now: datetime,
        ship_time: datetime | None = None,
    ) -> ReservationOutcome:
        kind, effective = {
            ReservationState.RELEASED: (MovementType.RELEASE, now),
            ReservationState.EXPIRED: (MovementType.EXPIRE, current.expire_at),
            ReservationState.COMMITTED: (MovementType.SHIPMENT, ship_time or now),
        }[state]
        shipping = state is ReservationState.COMMITTED
        changes = [
            Change(
                kind,
                line.warehouse_id,
                line.sku,
                quantity_delta=-line.quantity if shipping else 0,
                reserved_delta=-line.quantity,
                reference=current.reference,
                reservation_id=current.id,
                effective_at=effective,
            )
            for line in current.lines
        ]
        ended = dataclasses.replace(
            current, state=state, updated_at=now, ended_at=now, version=current.version + 1
        )
        await self._save(conn, current, ended)
        outcome = await book(conn, current.tenant_id, changes, origin, now)
        return ReservationOutcome(ended, outcome.movements, outcome.levels)

    async def _current(
        self, conn: AsyncConnection, tenant_id: str, reservation_id: str, given_etag: str
    ) -> Reservation:
        current = await store.reservation(conn, tenant_id, reservation_id, lock=True)
        if current is None:
            raise NotFound("reservation", reservation_name(reservation_id))
        etag.check(reservation_name(current.id), current.version, given_etag)
        return current

    async def _save(self, conn: AsyncConnection, current: Reservation, changed: Reservation) -> None:
        if not await store.save_reservation(conn, changed, expected_version=current.version):
            raise errors.EtagMismatch(reservation_name(current.id))

    # --- expiry ----------------------------------------------------------------

    async def sweep(self, batch: int = 200) -> int:
        """Expire lapsed reservations (EXPIRE movements); returns how many."""
        async with self.db.snapshot() as conn:
            lapsed = await store.lapsed_reservations(conn, self.now(), batch)
        done = 0
        for tenant_id, reservation_id in lapsed:
            done += await self._expire(tenant_id, reservation_id)
        return done

    async def expire_lapsed_on(self, tenant_id: str, keys: list[tuple[str, str]]) -> bool:
        async with self.db.snapshot() as conn:
            lapsed = await store.lapsed_on_levels(conn, tenant_id, keys, self.now())
        return sum([await self._expire(tenant_id, rid) for rid in lapsed]) > 0

    async def _expire(self, tenant_id: str, reservation_id: str) -> int:
        async def work(conn: AsyncConnection) -> int:
            now = self.now()
            current = await store.reservation(conn, tenant_id, reservation_id, lock=True)
            # Re-checked under the lock: a commit, release or extension may have won.
            if (
                current is None
                or current.state_at(now) is not ReservationState.EXPIRED
                or (current.state is not ReservationState.ACTIVE)
            ):
                return 0
            await self._end(conn, current, ReservationState.EXPIRED, self.system, now)
            return 1

        return await self.db.run(work)
