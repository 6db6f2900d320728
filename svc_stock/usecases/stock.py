"""Levels and the movements that change them: receive, adjust, count,
transfer, return; reorder policies; the ledger; demand; reconciliation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from clients.catalog import Catalog, unknown_skus
from kit import errors, etag, idempotency, paging
from kit.db import Database
from kit.errors import InvalidArgument, NotFound, Violations
from kit.identity import Principal, Role
from svc_stock import commands, domain, store
from svc_stock.domain import Change, Level, Movement, MovementType, Outcome, Provenance
from svc_stock.usecases.ledger import book
from svc_stock.usecases.warehouses import warehouse_name

MAX_DEMAND_WINDOW = timedelta(days=400)
MAX_DRIFTS = 1000


def level_etag(level: Level) -> str:
    return etag.etag(domain.level_name(level.warehouse_id, level.sku), level.version)


@dataclass(frozen=True)
class LevelPage:
    levels: list[Level]
    next_page_token: str


@dataclass(frozen=True)
class MovementPage:
    movements: list[Movement]
    next_page_token: str


@dataclass(frozen=True)
class Demand:
    sku: str
    shipped: int
    returned: int
    shipments: int
    first_shipment_at: datetime | None
    last_shipment_at: datetime | None


@dataclass(frozen=True)
class DemandPage:
    summaries: list[Demand]
    next_page_token: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Drift:
    warehouse_id: str
    sku: str
    field: str
    kind: str  # ledger_mismatch | reservations_mismatch | reserved_above_on_hand | negative
    expected: int
    actual: int


@dataclass(frozen=True)
class Reconciliation:
    checked: int
    drifts: list[Drift]
    truncated: bool
    ledger_sequence: int
    checked_at: datetime


FreeLapsed = Callable[[str, list[tuple[str, str]]], Awaitable[bool]]


async def nothing_lapsed(tenant_id: str, keys: list[tuple[str, str]]) -> bool:
    return False


class Stock:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        clock: Callable[[], datetime],
        free_lapsed: FreeLapsed = nothing_lapsed,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.now = clock
        self.free_lapsed = free_lapsed  # expires lapsed holds on levels; True if it freed any

    # --- changes ---------------------------------------------------------------

    async def receive(self, who: Principal, origin: Provenance, cmd: commands.Receive) -> Outcome:
        self._check_stock_lines(cmd.lines, "lines")
        await self._known(cmd.lines)
        changes = [
            Change(
                MovementType.RECEIPT,
                cmd.warehouse_id,
                line.sku,
                quantity_delta=line.quantity,
                reference=cmd.reference,
                note=cmd.note,
            )
            for line in cmd.lines
        ]
        return await self._book(who, origin, "ReceiveStock", cmd, [cmd.warehouse_id], changes)

    async def return_stock(self, who: Principal, origin: Provenance, cmd: commands.Return) -> Outcome:
        self._check_stock_lines(cmd.lines, "lines")
        if not cmd.reference.strip():
            raise InvalidArgument(
                [errors.FieldViolation("reference", "required: the document behind the return")]
            )
        changes = [
            Change(
                MovementType.RETURN,
                cmd.warehouse_id,
                line.sku,
                quantity_delta=line.quantity,
                reference=cmd.reference,
                note=cmd.note,
            )
            for line in cmd.lines
        ]
        return await self._book(who, origin, "ReturnStock", cmd, [cmd.warehouse_id], changes)

    async def adjust(self, who: Principal, origin: Provenance, cmd: commands.Adjust) -> Outcome:
        violations = Violations()
        domain.check_line_count(len(cmd.lines), "lines", violations)
        domain.check_unique([line.sku for line in cmd.lines], "lines", "SKU", violations)
        for i, line in enumerate(cmd.lines):
            domain.check_sku(line.sku, f"lines[{i}].sku", violations)
            if line.quantity_delta == 0:
                violations.add(f"lines[{i}].quantity_delta", "must not be 0")
            if line.reason is None:
                violations.add(f"lines[{i}].reason", "required")
            elif line.reason is domain.AdjustmentReason.OTHER and not line.note.strip():
                violations.add(f"lines[{i}].note", "required when the reason is OTHER")
        violations.raise_if_any()
        if not who.holds_any(frozenset({Role.MANAGER})):
            domain.check_clerk_adjustment(line.quantity_delta for line in cmd.lines)
        await self._known(cmd.lines)
        changes = [
            Change(
                MovementType.ADJUSTMENT,
                cmd.warehouse_id,
                line.sku,
                quantity_delta=line.quantity_delta,
                reason=line.reason,
                note=line.note,
                reference=cmd.reference,
            )
            for line in cmd.lines
        ]
        return await self._book(who, origin, "AdjustStock", cmd, [cmd.warehouse_id], changes)

    async def count(self, who: Principal, origin: Provenance, cmd: commands.Count) -> Outcome:
        violations = Violations()
        domain.check_line_count(len(cmd.lines), "lines", violations)
        domain.check_unique([line.sku for line in cmd.lines], "lines", "SKU", violations)
        for i, line in enumerate(cmd.lines):
            domain.check_sku(line.sku, f"lines[{i}].sku", violations)
            if line.counted < 0:
                violations.add(f"lines[{i}].counted_quantity", "0 or more")
        violations.raise_if_any()
        await self._known(cmd.lines)
        changes = [
            Change(
                MovementType.CYCLE_COUNT,
                cmd.warehouse_id,
                line.sku,
                counted=line.counted,
                reference=cmd.reference,
                note=cmd.note,
            )
            for line in cmd.lines
        ]
        return await self._book(who, origin, "RecordCycleCount", cmd, [cmd.warehouse_id], changes)

    async def transfer(self, who: Principal, origin: Provenance, cmd: commands.Transfer) -> Outcome:
        self._check_stock_lines(cmd.lines, "lines")
        if cmd.source_id == cmd.destination_id:
            raise InvalidArgument(
                [errors.FieldViolation("destination_warehouse", "must differ from the source")]
            )
        await self._known(cmd.lines)
        changes: list[Change] = []
        for line in cmd.lines:
            changes.append(
                Change(
                    MovementType.TRANSFER_OUT,
                    cmd.source_id,
                    line.sku,
                    quantity_delta=-line.quantity,
                    counterpart_warehouse_id=cmd.destination_id,
                    reference=cmd.reference,
                    note=cmd.note,
                )
            )
            changes.append(
                Change(
                    MovementType.TRANSFER_IN,
                    cmd.destination_id,
                    line.sku,
                    quantity_delta=line.quantity,
                    counterpart_warehouse_id=cmd.source_id,
                    reference=cmd.reference,
                    note=cmd.note,
                )
            )
        return await self._book(
            who, origin, "TransferStock", cmd, [cmd.source_id, cmd.destination_id], changes
        )

    async def _book(
        self,
        who: Principal,
        origin: Provenance,
        operation: str,
        cmd: object,
        warehouse_ids: Sequence[str],
        changes: Sequence[Change],
    ) -> Outcome:
        async def work(conn: AsyncConnection) -> Outcome:
            await active_warehouses(conn, who.tenant_id, warehouse_ids)
            return await book(conn, who.tenant_id, changes, origin, self.now())

        key = idempotency.Key(who.tenant_id, origin.request_id, operation)
        try:
            return await idempotency.once(self.db, store.idempotency_records, key, cmd, Outcome, work)
        except (domain.InsufficientStock, domain.CountBelowReserved):
            # Holds past their expiry still count until swept: free those on
            # these levels and try once more before refusing.
            if not await self.free_lapsed(who.tenant_id, [(c.warehouse_id, c.sku) for c in changes]):
                raise
            return await idempotency.once(self.db, store.idempotency_records, key, cmd, Outcome, work)

    def _check_stock_lines(self, lines: Sequence[commands.StockLine], field: str) -> None:
        violations = Violations()
        domain.check_line_count(len(lines), field, violations)
        domain.check_unique([line.sku for line in lines], field, "SKU", violations)
        for i, line in enumerate(lines):
            domain.check_sku(line.sku, f"{field}[{i}].sku", violations)
            domain.check_positive(line.quantity, f"{field}[{i}].quantity", violations)
        violations.raise_if_any()

    async def _known(
        self, lines: Sequence[commands.StockLine | commands.AdjustmentLine | commands.CountLine]
    ) -> None:
        unknown = set((await self.catalog.variants([line.sku for line in lines])).unknown)
        if unknown:
            raise unknown_skus(
                (f"lines[{i}].sku", line.sku) for i, line in enumerate(lines) if line.sku in unknown
            )

    # --- levels ----------------------------------------------------------------

    async def get_level(self, who: Principal, warehouse_id: str, sku: str) -> Level:
        async with self.db.snapshot() as conn:
            await existing_warehouses(conn, who.tenant_id, [warehouse_id])
            found = await store.levels_by_key(conn, who.tenant_id, [(warehouse_id, sku)])
            level = found.get((warehouse_id, sku)) or domain.empty_level(warehouse_id, sku)
            (seen,) = await self._as_seen(conn, who.tenant_id, [level])
        return seen

    async def _as_seen(self, conn: AsyncConnection, tenant_id: str, levels: list[Level]) -> list[Level]:
        """Expiry takes effect at expire_time: a hold that lapsed is free stock
        in every answer, even before the sweeper writes its EXPIRE movement."""
        lapsed = await store.lapsed_holds(
            conn, tenant_id, [(v.warehouse_id, v.sku) for v in levels], self.now()
        )
        return [replace(v, reserved=v.reserved - lapsed.get((v.warehouse_id, v.sku), 0)) for v in levels]

    async def list_levels(self, who: Principal, query: commands.ListLevels) -> LevelPage:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        after = (str(cursor["w"]), str(cursor["s"])) if "w" in cursor and "s" in cursor else None
        async with self.db.snapshot() as conn:
            if query.warehouse_id is not None:
                await existing_warehouses(conn, who.tenant_id, [query.warehouse_id])
            found = await store.list_levels(
                conn,
                who.tenant_id,
                warehouse_id=query.warehouse_id,
                skus=query.skus,
                after=after,
                limit=size + 1,
                low_only=query.low_only,
            )
        more = len(found) > size
        found = found[:size]
        token = paging.encode({"w": found[-1].warehouse_id, "s": found[-1].sku}) if more else ""
        return LevelPage(found, token)

    async def set_reorder_policy(
        self, who: Principal, request_id: str, cmd: commands.SetReorderPolicy
    ) -> Level:
        violations = Violations()
        domain.check_sku(cmd.sku, "name", violations)
        if cmd.reorder_point < 0:
            violations.add("reorder_point", "0 or more")
        if cmd.reorder_quantity < 0:
            violations.add("reorder_quantity", "0 or more")
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> Level:
            await active_warehouses(conn, who.tenant_id, [cmd.warehouse_id])
            key = (cmd.warehouse_id, cmd.sku)
            current = (await store.levels_by_key(conn, who.tenant_id, [key])).get(key)
            if current is not None:
                etag.check(domain.level_name(*key), current.version, cmd.etag)
            await store.set_reorder_policy(
                conn,
                who.tenant_id,
                cmd.warehouse_id,
                cmd.sku,
                cmd.reorder_point,
                cmd.reorder_quantity,
                self.now(),
            )
            return (await store.levels_by_key(conn, who.tenant_id, [key]))[key]

        key = idempotency.Key(who.tenant_id, request_id, "SetReorderPolicy")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Level, work)

    # --- ledger ----------------------------------------------------------------

    async def get_movement(self, who: Principal, movement_id: str) -> Movement:
        async with self.db.snapshot() as conn:
            found = await store.movement(conn, who.tenant_id, movement_id)
        if found is None:
            raise NotFound("movement", f"movements/{movement_id}")
        return found

    async def list_movements(self, who: Principal, query: commands.ListMovements) -> MovementPage:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        resume = int(cursor.get("seq", 0))
        after = max(query.after_sequence, resume if not query.newest_first else 0)
        before = resume if query.newest_first and resume else None
        async with self.db.snapshot() as conn:
            found = await store.list_movements(
                conn,
                who.tenant_id,
                warehouse_id=query.warehouse_id,
                sku=query.sku,
                types=query.types,
                reference=query.reference,
                reservation_id=query.reservation_id,
                start=query.start,
                end=query.end,
                after_sequence=after,
                before_sequence=before,
                newest_first=query.newest_first,
                limit=size + 1,
            )
        more = len(found) > size
        found = found[:size]
        return MovementPage(found, paging.encode({"seq": found[-1].sequence}) if more else "")

    async def summarize_demand(self, who: Principal, query: commands.SummarizeDemand) -> DemandPage:
        end = query.end or self.now()
        violations = Violations()
        if end < query.start:
            violations.add("end_time", "before start_time")
        elif end - query.start > MAX_DEMAND_WINDOW:
            violations.add("start_time", "the window is at most 400 days")
        if len(query.skus) > domain.MAX_LINES:
            violations.add("skus", "at most 500")
        violations.raise_if_any()
        size = paging.page_size(query.page_size)
        after = str(paging.decode(query.page_token).get("after_sku", ""))
        async with self.db.snapshot() as conn:
            await existing_warehouses(conn, who.tenant_id, [query.warehouse_id])
            sums = await store.demand(conn, who.tenant_id, query.warehouse_id, query.start, end, query.skus)
        skus = sorted(set(query.skus) | set(sums) if query.skus else set(sums))
        skus = [s for s in skus if s > after]
        page = [Demand(s, *sums.get(s, (0, 0, 0, None, None))) for s in skus[:size]]
        token = paging.encode({"after_sku": page[-1].sku}) if len(skus) > size else ""
        return DemandPage(page, token, query.start, end)

    async def reconcile(self, who: Principal, warehouse_id: str | None) -> Reconciliation:
        """Check every level against its ledger and its reservations, on one
        snapshot (REPEATABLE READ on PostgreSQL; SQLite reads are snapshots)."""
        async with self.db.snapshot(repeatable=True) as conn:
            if warehouse_id is not None:
                await existing_warehouses(conn, who.tenant_id, [warehouse_id])
            sequence = await store.last_sequence(conn, who.tenant_id)
            levels = await store.all_levels(conn, who.tenant_id, warehouse_id)
            ledger = await store.ledger_sums(conn, who.tenant_id, warehouse_id)
            held = await store.active_reserved_sums(conn, who.tenant_id, warehouse_id)
        drifts: list[Drift] = []
        for wid, sku, on_hand, reserved in levels:
            ledger_on_hand, ledger_reserved = ledger.get((wid, sku), (0, 0))
            if on_hand != ledger_on_hand:
                drifts.append(Drift(wid, sku, "on_hand", "ledger_mismatch", ledger_on_hand, on_hand))
            if reserved != ledger_reserved:
                drifts.append(Drift(wid, sku, "reserved", "ledger_mismatch", ledger_reserved, reserved))
            if reserved != held.get((wid, sku), 0):
                drifts.append(
                    Drift(wid, sku, "reserved", "reservations_mismatch", held.get((wid, sku), 0), reserved)
                )
            if reserved > on_hand:
                drifts.append(Drift(wid, sku, "reserved", "reserved_above_on_hand", on_hand, reserved))
            for field, value in (("on_hand", on_hand), ("reserved", reserved)):
                if value < 0:
                    drifts.append(Drift(wid, sku, field, "negative", 0, value))
        return Reconciliation(
            len(levels), drifts[:MAX_DRIFTS], len(drifts) > MAX_DRIFTS, sequence, self.now()
        )


async def existing_warehouses(
    conn: AsyncConnection, tenant_id: str, ids: Sequence[str]
) -> dict[str, domain.Warehouse]:
    found = await store.warehouses_by_id(conn, tenant_id, ids)
    for warehouse_id in ids:
        if warehouse_id not in found:
            raise NotFound("warehouse", warehouse_name(warehouse_id))
    return found


async def active_warehouses(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> None:
    for found in (await existing_warehouses(conn, tenant_id, ids)).values():
        domain.warehouse_accepts_changes(found)
