"""Reservations once granted (`granting`): read, listed, extended, released,
committed (shipped), or expired when they lapse (swept in the background;
a lapsed hold reads EXPIRED and its stock free before any sweep)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from kit import errors, etag, idempotency, paging
from kit.errors import InvalidArgument, NotFound, Violations
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units, revise
from svc_stock import commands, domain
from svc_stock.domain import Provenance, Reservation, ReservationOutcome, ReservationState
from svc_stock.ports import Key, StockUnit
from svc_stock.usecases.ledger import book


def reservation_name(reservation_id: str) -> str:
    return f"reservations/{reservation_id}"


def reservation_etag(r: Reservation) -> str:
    return etag.etag(reservation_name(r.id), r.version)


class Reservations:
    def __init__(self, units: Units[StockUnit], *, system: Provenance) -> None:
        self.units = units
        self.now = units.now
        self.system = system  # provenance of the sweeper's EXPIRE movements

    async def get(self, who: Principal, reservation_id: str) -> Reservation:
        async with self.units.read() as uow:
            found = await uow.reservations.get(who.tenant_id, reservation_id)
        if found is None:
            raise NotFound("reservation", reservation_name(reservation_id))
        return self._as_seen(found)

    def _as_seen(self, reservation: Reservation) -> Reservation:
        """What callers see: a lapsed hold reads EXPIRED even before the sweep."""
        state = reservation.state_at(self.now())
        if state is reservation.state:
            return reservation
        return dataclasses.replace(reservation, state=state, ended_at=reservation.expire_at)

    async def list_reservations(self, who: Principal, query: commands.ListReservations) -> Page[Reservation]:
        size = paging.page_size(query.page_size)
        filters = paging.filters_digest(query.state, query.reference, query.warehouse_id, query.sku)
        cursor = paging.cursor_for(query.page_token, filters, {"t": datetime, "id": str})
        before = (datetime.fromisoformat(cursor["t"]), cursor["id"]) if cursor else None
        async with self.units.read() as uow:
            found = await uow.reservations.find(
                who.tenant_id,
                state=query.state,
                now=self.now(),
                reference=query.reference,
                warehouse_id=query.warehouse_id,
                sku=query.sku,
                before=before,
                limit=size + 1,
            )
        page = paging.page_of(
            found, size, lambda r: {"t": r.created_at.isoformat(), "id": r.id, "f": filters}
        )
        return Page([self._as_seen(r) for r in page.items], page.next_page_token)

    async def extend(self, who: Principal, request_id: str, cmd: commands.Extend) -> Reservation:
        def extended(current: Reservation) -> Reservation:
            now = self.now()
            domain.reservation_is_active(current, now)
            expire_at = cmd.expiry.resolve(now, domain.DEFAULT_HOLD)
            violations = Violations()
            if expire_at < current.expire_at:
                violations.add("expire_time", "earlier than the current expiry")
            domain.check_hold(expire_at, now, "expire_time", violations)
            violations.raise_if_any()
            return dataclasses.replace(current, expire_at=expire_at, updated_at=now)

        async def work(uow: StockUnit) -> Reservation:
            return await revise(
                await uow.reservations.get(who.tenant_id, cmd.reservation_id, lock=True),
                extended,
                uow.reservations.save,
                kind="reservation",
                name=reservation_name(cmd.reservation_id),
                given_etag=cmd.etag,
            )

        key = idempotency.Key(who.tenant_id, request_id, "ExtendReservation")
        return await self.units.once(key, cmd, Reservation)(work)

    async def release(self, who: Principal, origin: Provenance, cmd: commands.Release) -> ReservationOutcome:
        async def work(uow: StockUnit) -> ReservationOutcome:
            now = self.now()
            current = await self._current(uow, who.tenant_id, cmd.reservation_id, cmd.etag)
            if not domain.releasable(current, now):
                if current.state is ReservationState.ACTIVE:  # lapsed, not yet swept: sweep it now
                    return await self._end(uow, current, ReservationState.EXPIRED, self.system, now)
                return ReservationOutcome(self._as_seen(current), (), ())
            return await self._end(uow, current, ReservationState.RELEASED, origin, now)

        key = idempotency.Key(who.tenant_id, origin.request_id, "ReleaseReservation")
        return await self.units.once(key, cmd, ReservationOutcome)(work)

    async def commit(self, who: Principal, origin: Provenance, cmd: commands.Commit) -> ReservationOutcome:
        if cmd.ship_time is not None and cmd.ship_time > self.now():
            raise InvalidArgument([errors.FieldViolation("ship_time", "in the future")])

        async def work(uow: StockUnit) -> ReservationOutcome:
            now = self.now()
            current = await self._current(uow, who.tenant_id, cmd.reservation_id, cmd.etag)
            domain.reservation_is_active(current, now)
            return await self._end(uow, current, ReservationState.COMMITTED, origin, now, cmd.ship_time)

        key = idempotency.Key(who.tenant_id, origin.request_id, "CommitReservation")
        return await self.units.once(key, cmd, ReservationOutcome)(work)

    async def _current(
        self, uow: StockUnit, tenant_id: str, reservation_id: str, given_etag: str
    ) -> Reservation:
        # Not `revise`: a release of an ended reservation changes nothing.
        current = await uow.reservations.get(tenant_id, reservation_id, lock=True)
        if current is None:
            raise NotFound("reservation", reservation_name(reservation_id))
        etag.check(reservation_name(current.id), current.version, given_etag)
        return current

    async def _end(
        self,
        uow: StockUnit,
        current: Reservation,
        state: ReservationState,
        origin: Provenance,
        now: datetime,
        ship_time: datetime | None = None,
    ) -> ReservationOutcome:
        ended, changes = domain.ending(current, state, now, ship_time)
        if not await uow.reservations.save(ended, current.version):
            raise errors.EtagMismatch(reservation_name(current.id))
        outcome = await book(uow, current.tenant_id, changes, origin, now)
        return ReservationOutcome(ended, outcome.movements, outcome.levels)

    # --- expiry ----------------------------------------------------------------

    async def sweep(self, batch: int = 200) -> int:
        """Expire lapsed reservations (EXPIRE movements); returns how many."""
        async with self.units.read() as uow:
            lapsed = await uow.reservations.lapsed(self.now(), batch)
        return sum([await self._expire(tenant_id, reservation_id) for tenant_id, reservation_id in lapsed])

    async def expire_lapsed_on(self, tenant_id: str, keys: list[Key]) -> bool:
        """Expire the lapsed holds on these levels; True if there were any."""
        async with self.units.read() as uow:
            lapsed = await uow.reservations.lapsed_on_levels(tenant_id, keys, self.now())
        return sum([await self._expire(tenant_id, rid) for rid in lapsed]) > 0

    async def _expire(self, tenant_id: str, reservation_id: str) -> int:
        async def work(uow: StockUnit) -> int:
            now = self.now()
            current = await uow.reservations.get(tenant_id, reservation_id, lock=True)
            # Re-checked under the lock: a commit, release, extension or a
            # reservation batch may have come first.
            if current is None or current.state is not ReservationState.ACTIVE or current.expire_at > now:
                return 0
            await self._end(uow, current, ReservationState.EXPIRED, self.system, now)
            return 1

        return await self.units.run(work)
