"""Stock changes booked on the ledger: receive, adjust, count, transfer,
return. Reservations are granted elsewhere (`granting`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from clients.catalog import Catalog, unknown_skus
from kit import errors, idempotency
from kit.errors import InvalidArgument, Violations
from kit.identity import Principal, Role
from kit.uow import Units
from svc_stock import commands, domain
from svc_stock.domain import Change, MovementType, Outcome, Provenance
from svc_stock.ports import Key, StockUnit
from svc_stock.usecases.ledger import book
from svc_stock.usecases.warehouses import active_warehouses

FreeLapsed = Callable[[str, list[Key]], Awaitable[bool]]


async def nothing_lapsed(tenant_id: str, keys: list[Key]) -> bool:
    return False


class Stock:
    def __init__(
        self, units: Units[StockUnit], catalog: Catalog, free_lapsed: FreeLapsed = nothing_lapsed
    ) -> None:
        self.units = units
        self.now = units.now
        self.catalog = catalog
        self.free_lapsed = free_lapsed  # expires lapsed holds on levels; True if it freed any

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
        async def work(uow: StockUnit) -> Outcome:
            await active_warehouses(uow, who.tenant_id, warehouse_ids)
            return await book(uow, who.tenant_id, changes, origin, self.now())

        once = self.units.once(idempotency.Key(who.tenant_id, origin.request_id, operation), cmd, Outcome)
        try:
            return await once(work)
        except (domain.InsufficientStock, domain.CountBelowReserved):
            # Holds past their expiry still count in a level until swept: free
            # those on these levels and try once more before refusing.
            if not await self.free_lapsed(who.tenant_id, [(c.warehouse_id, c.sku) for c in changes]):
                raise
            return await once(work)

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
