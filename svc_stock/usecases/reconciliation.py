"""Reconciliation: every level checked against its ledger and its
reservations, on one snapshot, a slice at a time.

A full check reads the whole ledger by nature. It goes warehouse by
warehouse (by id), SKU slice by SKU slice (`SLICE` levels, then the ledger
sums and the held quantities of exactly that range of SKUs), so no step
holds more than a slice, whatever the size of the warehouse; the drifts it
keeps are bounded (MAX_DRIFTS, then `truncated`). Progress is logged after
each warehouse. Cost measured in docs/scale.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from kit.uow import Units
from svc_stock.ports import Key, SkuRange, StockUnit
from svc_stock.usecases.warehouses import existing_warehouses

MAX_DRIFTS = 1000
SLICE = 5000  # levels read at a time

log = logging.getLogger(__name__)


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


async def reconcile(units: Units[StockUnit], tenant_id: str, warehouse_id: str | None) -> Reconciliation:
    """Check every level of one warehouse (or of all) on one snapshot (a
    read-only unit); drifts ordered by warehouse, then SKU."""
    checked = 0
    drifts: list[Drift] = []
    found_more = False
    async with units.read() as uow:
        if warehouse_id is not None:
            await existing_warehouses(uow, tenant_id, [warehouse_id])
        sequence = await uow.ledger.last_sequence(tenant_id)
        for warehouse in (
            [warehouse_id] if warehouse_id is not None else await _every_warehouse(uow, tenant_id)
        ):
            started, before = time.monotonic(), checked
            after = ""
            while True:
                levels = await uow.levels.quantities(tenant_id, warehouse, after=after, limit=SLICE)
                if not levels:
                    break
                skus = SkuRange(after, levels[-1][0])
                ledger = await uow.ledger.sums(tenant_id, warehouse, skus=skus)
                held = await uow.reservations.held(tenant_id, warehouse, skus=skus)
                for sku, on_hand, reserved in levels:
                    for drift in _drifts(warehouse, sku, on_hand, reserved, ledger, held):
                        if len(drifts) < MAX_DRIFTS:
                            drifts.append(drift)
                        else:
                            found_more = True
                checked += len(levels)
                after = skus.last
            log.info(
                "reconcile: warehouse checked",
                extra={
                    "warehouse_id": warehouse,
                    "levels": checked - before,
                    "seconds": round(time.monotonic() - started, 3),
                    "drifts_so_far": len(drifts),
                },
            )
    return Reconciliation(checked, drifts, found_more, sequence, units.now())


async def _every_warehouse(uow: StockUnit, tenant_id: str) -> list[str]:
    ids: list[str] = []
    after_code = ""
    while page := await uow.warehouses.find(
        tenant_id, after_code=after_code, limit=1000, status=None, code=""
    ):
        ids += [w.id for w in page]
        after_code = page[-1].code
    return sorted(ids)


def _drifts(
    warehouse: str,
    sku: str,
    on_hand: int,
    reserved: int,
    ledger: dict[Key, tuple[int, int]],
    held: dict[Key, int],
) -> Iterator[Drift]:
    ledger_on_hand, ledger_reserved = ledger.get((warehouse, sku), (0, 0))
    in_holds = held.get((warehouse, sku), 0)
    if on_hand != ledger_on_hand:
        yield Drift(warehouse, sku, "on_hand", "ledger_mismatch", ledger_on_hand, on_hand)
    if reserved != ledger_reserved:
        yield Drift(warehouse, sku, "reserved", "ledger_mismatch", ledger_reserved, reserved)
    if reserved != in_holds:
        yield Drift(warehouse, sku, "reserved", "reservations_mismatch", in_holds, reserved)
    if reserved > on_hand:
        yield Drift(warehouse, sku, "reserved", "reserved_above_on_hand", on_hand, reserved)
    for field, value in (("on_hand", on_hand), ("reserved", reserved)):
        if value < 0:
            yield Drift(warehouse, sku, field, "negative", 0, value)
