"""svc_stock's storage in memory, for fast specifications of its use cases:
the same repositories as `svc_stock.store`, with the same orderings,
filters, version checks and refusals, on plain dicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kit.memory import Memory, MemoryUnitOfWork, State
from kit.uow import Units
from svc_stock import ports
from svc_stock.domain import (
    Level,
    Movement,
    MovementType,
    Reservation,
    ReservationState,
    Warehouse,
    WarehouseStatus,
    empty_level,
)
from svc_stock.ports import DemandSums, Key, MovementQuery, SkuRange

ACTIVE = ReservationState.ACTIVE


@dataclass
class StockState(State):
    warehouses: dict[tuple[str, str], Warehouse] = field(default_factory=dict)  # (tenant, id)
    levels: dict[tuple[str, str, str], Level] = field(default_factory=dict)  # (tenant, warehouse, sku)
    sequences: dict[str, int] = field(default_factory=dict)
    movements: dict[str, list[Movement]] = field(default_factory=dict)  # tenant -> by sequence
    reservations: dict[tuple[str, str], Reservation] = field(default_factory=dict)  # (tenant, id)


class MemoryWarehouses(ports.Warehouses):
    def __init__(self, state: StockState) -> None:
        self.state = state

    async def add(self, warehouse: Warehouse) -> None:
        assert not await self.code_taken(warehouse.tenant_id, warehouse.code), "unique (tenant_id, code)"
        self.state.warehouses[warehouse.tenant_id, warehouse.id] = warehouse

    async def get(self, tenant_id: str, warehouse_id: str) -> Warehouse | None:
        return self.state.warehouses.get((tenant_id, warehouse_id))

    async def by_id(self, tenant_id: str, ids: Sequence[str]) -> dict[str, Warehouse]:
        return {i: w for i in ids if (w := self.state.warehouses.get((tenant_id, i))) is not None}

    async def code_taken(self, tenant_id: str, code: str) -> bool:
        return any(t == tenant_id and w.code == code for (t, _), w in self.state.warehouses.items())

    async def find(
        self, tenant_id: str, *, after_code: str, limit: int, status: WarehouseStatus | None, code: str
    ) -> list[Warehouse]:
        found = [
            w
            for (t, _), w in self.state.warehouses.items()
            if t == tenant_id
            and w.code > after_code
            and (status is None or w.status is status)
            and (not code or w.code == code)
        ]
        return sorted(found, key=lambda w: w.code)[:limit]

    async def save(self, warehouse: Warehouse, expected_version: int) -> bool:
        current = self.state.warehouses.get((warehouse.tenant_id, warehouse.id))
        if current is None or current.version != expected_version:
            return False
        self.state.warehouses[warehouse.tenant_id, warehouse.id] = warehouse
        return True

    async def holds_anything(self, tenant_id: str, warehouse_id: str) -> bool:
        return any(
            t == tenant_id and w == warehouse_id and (v.on_hand or v.reserved)
            for (t, w, _), v in self.state.levels.items()
        )


class MemoryLevels(ports.Levels):
    """Levels are kept without their last movement's sequence, which is
    derived on read from the ledger, as the SQL store does."""

    def __init__(self, state: StockState) -> None:
        self.state = state

    def _seen(self, tenant_id: str, level: Level) -> Level:
        key = (level.warehouse_id, level.sku)
        ledger = self.state.movements.get(tenant_id, [])
        last = max((m.sequence for m in ledger if (m.warehouse_id, m.sku) == key), default=0)
        return dataclasses.replace(level, last_movement_sequence=last)

    async def low_counts(self) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for (tenant_id, warehouse_id, _), level in self.state.levels.items():
            if level.low_stock:
                found[(tenant_id, warehouse_id)] = found.get((tenant_id, warehouse_id), 0) + 1
        return found

    async def by_key(self, tenant_id: str, keys: Sequence[Key]) -> dict[Key, Level]:
        return {
            key: self._seen(tenant_id, level)
            for key in set(keys)
            if (level := self.state.levels.get((tenant_id, *key))) is not None
        }

    async def find(
        self,
        tenant_id: str,
        *,
        warehouse_id: str | None,
        skus: Sequence[str],
        after: Key | None,
        limit: int,
        low_only: bool = False,
    ) -> list[Level]:
        found = sorted(
            (
                level
                for (t, w, sku), level in self.state.levels.items()
                if t == tenant_id
                and (warehouse_id is None or w == warehouse_id)
                and (not skus or sku in skus)
                and (after is None or (w, sku) > after)
                and (not low_only or level.low_stock)
            ),
            key=lambda v: (v.warehouse_id, v.sku),
        )
        return [self._seen(tenant_id, v) for v in found[:limit]]

    def _upsert(self, tenant_id: str, key: Key, now: datetime, **changes: Any) -> Level:
        current = self.state.levels.get((tenant_id, *key))
        if current is None:
            level = dataclasses.replace(empty_level(*key), updated_at=now, version=1, **changes)
        else:
            level = dataclasses.replace(current, updated_at=now, version=current.version + 1, **changes)
        self.state.levels[tenant_id, *key] = level
        return level

    async def set_reorder_policy(
        self, tenant_id: str, key: Key, point: int, quantity: int, now: datetime
    ) -> None:
        self._upsert(tenant_id, key, now, reorder_point=point, reorder_quantity=quantity)

    async def add_stock(self, tenant_id: str, key: Key, quantity: int, now: datetime) -> Level:
        current = self.state.levels.get((tenant_id, *key))
        return self._upsert(tenant_id, key, now, on_hand=(current.on_hand if current else 0) + quantity)

    async def change(
        self, tenant_id: str, key: Key, *, on_hand_delta: int, reserved_delta: int, now: datetime
    ) -> Level | None:
        return self._change(tenant_id, key, on_hand_delta, reserved_delta, now)

    def _change(
        self, tenant_id: str, key: Key, on_hand_delta: int, reserved_delta: int, now: datetime, **more: Any
    ) -> Level | None:
        current = self.state.levels.get((tenant_id, *key))
        if current is None or current.on_hand + on_hand_delta < current.reserved + reserved_delta:
            return None
        changed = dataclasses.replace(
            current,
            on_hand=current.on_hand + on_hand_delta,
            reserved=current.reserved + reserved_delta,
            updated_at=now,
            version=current.version + 1,
            **more,
        )
        self.state.levels[tenant_id, *key] = changed
        return changed

    async def count(self, tenant_id: str, key: Key, counted: int, now: datetime) -> tuple[int, Level] | None:
        delta = counted - self._upsert(tenant_id, key, now).on_hand
        changed = self._change(tenant_id, key, delta, 0, now, last_count_at=now)
        return (delta, changed) if changed is not None else None

    async def quantities(
        self, tenant_id: str, warehouse_id: str, *, after: str, limit: int
    ) -> list[tuple[str, int, int]]:
        return sorted(
            (sku, v.on_hand, v.reserved)
            for (t, w, sku), v in self.state.levels.items()
            if t == tenant_id and w == warehouse_id and sku > after
        )[:limit]


class MemoryLedger(ports.Ledger):
    def __init__(self, state: StockState) -> None:
        self.state = state

    async def next_sequences(self, tenant_id: str, count: int) -> int:
        last = self.state.sequences.get(tenant_id, 0) + count
        self.state.sequences[tenant_id] = last
        return last - count + 1

    async def last_sequence(self, tenant_id: str) -> int:
        return self.state.sequences.get(tenant_id, 0)

    async def append(self, tenant_id: str, movements: Sequence[Movement]) -> None:
        ledger = self.state.movements.setdefault(tenant_id, [])
        taken = {m.sequence for m in ledger} | {m.id for m in ledger}
        assert not any(m.sequence in taken or m.id in taken for m in movements), "unique sequence and id"
        ledger.extend(movements)
        ledger.sort(key=lambda m: m.sequence)

    async def get(self, tenant_id: str, movement_id: str) -> Movement | None:
        return next((m for m in self.state.movements.get(tenant_id, []) if m.id == movement_id), None)

    async def by_id(self, tenant_id: str, ids: Sequence[str]) -> list[Movement]:
        found = {m.id: m for m in self.state.movements.get(tenant_id, [])}
        return [found[i] for i in ids]

    async def find(self, tenant_id: str, query: MovementQuery) -> list[Movement]:
        q = query
        found = [
            m
            for m in self.state.movements.get(tenant_id, [])
            if m.sequence > q.after_sequence
            and (q.before_sequence is None or m.sequence < q.before_sequence)
            and (q.warehouse_id is None or m.warehouse_id == q.warehouse_id)
            and (not q.sku or m.sku == q.sku)
            and (not q.types or m.type in q.types)
            and (not q.reference or m.reference == q.reference)
            and (not q.reservation_id or m.reservation_id == q.reservation_id)
            and (q.start is None or m.created_at >= q.start)
            and (q.end is None or m.created_at < q.end)
        ]
        return (list(reversed(found)) if q.newest_first else found)[: q.limit]

    async def sums(
        self, tenant_id: str, warehouse_id: str | None, *, skus: SkuRange | None = None
    ) -> dict[Key, tuple[int, int]]:
        out: dict[Key, tuple[int, int]] = {}
        for m in self.state.movements.get(tenant_id, []):
            if warehouse_id in (None, m.warehouse_id) and (skus is None or m.sku in skus):
                q, r = out.get((m.warehouse_id, m.sku), (0, 0))
                out[m.warehouse_id, m.sku] = (q + m.quantity_delta, r + m.reserved_delta)
        return out

    async def demand(
        self,
        tenant_id: str,
        warehouse_id: str,
        start: datetime,
        end: datetime,
        skus: Sequence[str],
        *,
        after: str = "",
        limit: int | None = None,
    ) -> dict[str, DemandSums]:
        out: dict[str, DemandSums] = {}
        for m in self.state.movements.get(tenant_id, []):
            if (
                m.warehouse_id != warehouse_id
                or not start <= m.effective_at < end
                or (skus and m.sku not in skus)
                or m.sku <= after
                or m.type not in (MovementType.RETURN, MovementType.SHIPMENT)
            ):
                continue
            d = out.get(m.sku, DemandSums(0, 0, 0, None, None))
            if m.type is MovementType.RETURN:
                out[m.sku] = dataclasses.replace(d, returned=d.returned + m.quantity_delta)
            elif m.type is MovementType.SHIPMENT:
                first, last = d.first_shipment_at or m.effective_at, d.last_shipment_at or m.effective_at
                out[m.sku] = DemandSums(
                    d.shipped - m.quantity_delta,
                    d.returned,
                    d.shipments + 1,
                    min(first, m.effective_at),
                    max(last, m.effective_at),
                )
        return dict(sorted(out.items())[:limit])


class MemoryReservations(ports.Reservations):
    def __init__(self, state: StockState) -> None:
        self.state = state

    def _of(self, tenant_id: str) -> list[Reservation]:
        return [r for (t, _), r in self.state.reservations.items() if t == tenant_id]

    async def get(self, tenant_id: str, reservation_id: str, *, lock: bool = False) -> Reservation | None:
        return self.state.reservations.get((tenant_id, reservation_id))

    async def find(
        self,
        tenant_id: str,
        *,
        state: ReservationState | None,
        now: datetime,
        reference: str,
        warehouse_id: str | None,
        sku: str,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Reservation]:
        found = [
            r
            for r in self._of(tenant_id)
            if (state is None or r.state_at(now) is state)
            and (not reference or r.reference == reference)
            and (warehouse_id is None or any(line.warehouse_id == warehouse_id for line in r.lines))
            and (not sku or any(line.sku == sku for line in r.lines))
            and (before is None or (r.created_at, r.id) < before)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id), reverse=True)[:limit]

    async def save(self, reservation: Reservation, expected_version: int) -> bool:
        current = self.state.reservations.get((reservation.tenant_id, reservation.id))
        if current is None or current.version != expected_version:
            return False
        self.state.reservations[reservation.tenant_id, reservation.id] = dataclasses.replace(
            reservation, lines=current.lines
        )
        return True

    def lapsed_on(self, tenant_id: str, keys: Sequence[Key], now: datetime) -> list[Reservation]:
        return sorted(
            (
                r
                for r in self._of(tenant_id)
                if r.state is ACTIVE
                and r.expire_at <= now
                and any((line.warehouse_id, line.sku) in keys for line in r.lines)
            ),
            key=lambda r: r.id,
        )

    async def lapsed(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        found = [r for r in self.state.reservations.values() if r.state is ACTIVE and r.expire_at <= now]
        return [(r.tenant_id, r.id) for r in sorted(found, key=lambda r: r.expire_at)[:limit]]

    async def lapsed_on_levels(self, tenant_id: str, keys: Sequence[Key], now: datetime) -> list[str]:
        return [r.id for r in self.lapsed_on(tenant_id, keys, now)]

    async def lapsed_holds(self, tenant_id: str, keys: Sequence[Key], now: datetime) -> dict[Key, int]:
        return self._sums(self.lapsed_on(tenant_id, keys, now), keys)

    async def held(
        self, tenant_id: str, warehouse_id: str | None, *, skus: SkuRange | None = None
    ) -> dict[Key, int]:
        active = [r for r in self._of(tenant_id) if r.state is ACTIVE]
        return {
            k: q
            for k, q in self._sums(active, ()).items()
            if warehouse_id in (None, k[0]) and (skus is None or k[1] in skus)
        }

    @staticmethod
    def _sums(reservations: Sequence[Reservation], keys: Sequence[Key]) -> dict[Key, int]:
        out: dict[Key, int] = {}
        for r in reservations:
            for line in r.lines:
                key = (line.warehouse_id, line.sku)
                if not keys or key in keys:
                    out[key] = out.get(key, 0) + line.quantity
        return out


class MemoryStockUnit(MemoryUnitOfWork[StockState], ports.StockUnit):
    def bind(self, state: StockState) -> None:
        self.warehouses = MemoryWarehouses(state)
        self.levels = MemoryLevels(state)
        self.ledger = MemoryLedger(state)
        self.reservations = MemoryReservations(state)


def units(clock: Callable[[], datetime], memory: Memory[StockState]) -> Units[ports.StockUnit]:
    def opener(*, read_only: bool) -> ports.StockUnit:
        return MemoryStockUnit(memory, read_only=read_only)

    return Units(opener, clock)
