"""Warehouses: create, read, rename, archive."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence

from kit import errors, etag, idempotency, paging
from kit.errors import FailedPrecondition, NotFound, PreconditionViolation, Violations
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units, revise
from svc_stock import commands, domain
from svc_stock.domain import Warehouse, WarehouseStatus
from svc_stock.ports import StockUnit


def warehouse_name(warehouse_id: str) -> str:
    return f"warehouses/{warehouse_id}"


def warehouse_etag(w: Warehouse) -> str:
    return etag.etag(warehouse_name(w.id), w.version)


async def existing_warehouses(uow: StockUnit, tenant_id: str, ids: Sequence[str]) -> dict[str, Warehouse]:
    found = await uow.warehouses.by_id(tenant_id, ids)
    for warehouse_id in ids:
        if warehouse_id not in found:
            raise NotFound("warehouse", warehouse_name(warehouse_id))
    return found


async def active_warehouses(uow: StockUnit, tenant_id: str, ids: Sequence[str]) -> None:
    for found in (await existing_warehouses(uow, tenant_id, ids)).values():
        domain.warehouse_accepts_changes(found)


class Warehouses:
    def __init__(self, units: Units[StockUnit]) -> None:
        self.units = units
        self.now = units.now

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateWarehouse) -> Warehouse:
        code = cmd.code.strip().upper()
        violations = Violations()
        domain.check_code(code, "warehouse.code", violations)
        if not cmd.display_name.strip():
            violations.add("warehouse.display_name", "required")
        violations.raise_if_any()

        async def work(uow: StockUnit) -> Warehouse:
            if await uow.warehouses.code_taken(who.tenant_id, code):
                raise errors.AlreadyExists("warehouse", code, field="warehouse.code")
            now = self.now()
            w = Warehouse(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                code=code,
                display_name=cmd.display_name.strip(),
                address=cmd.address,
                status=WarehouseStatus.ACTIVE,
                created_at=now,
                updated_at=now,
                archived_at=None,
                version=1,
            )
            await uow.warehouses.add(w)
            return w

        key = idempotency.Key(who.tenant_id, request_id, "CreateWarehouse")
        try:
            return await self.units.once(key, cmd, Warehouse)(work)
        except errors.AlreadyExists as exc:
            exc.reason = "WAREHOUSE_CODE_TAKEN"
            raise

    async def get(self, who: Principal, warehouse_id: str) -> Warehouse:
        async with self.units.read() as uow:
            found = await uow.warehouses.get(who.tenant_id, warehouse_id)
        if found is None:
            raise NotFound("warehouse", warehouse_name(warehouse_id))
        return found

    async def list_warehouses(self, who: Principal, query: commands.ListWarehouses) -> Page[Warehouse]:
        size = paging.page_size(query.page_size)
        code = query.code.strip().upper()
        filters = paging.filters_digest(query.status, code)
        cursor = paging.cursor_for(query.page_token, filters, {"after_code": str})
        async with self.units.read() as uow:
            found = await uow.warehouses.find(
                who.tenant_id,
                after_code=cursor["after_code"] if cursor else "",
                limit=size + 1,
                status=query.status,
                code=code,
            )
        return paging.page_of(found, size, lambda w: {"after_code": w.code, "f": filters})

    async def update(self, who: Principal, request_id: str, cmd: commands.UpdateWarehouse) -> Warehouse:
        if cmd.display_name is not None and not cmd.display_name.strip():
            raise errors.InvalidArgument([errors.FieldViolation("warehouse.display_name", "required")])

        def renamed(current: Warehouse) -> Warehouse:
            return dataclasses.replace(
                current,
                display_name=cmd.display_name.strip()
                if cmd.display_name is not None
                else current.display_name,
                address=cmd.address if cmd.address is not None else current.address,
                updated_at=self.now(),
            )

        async def work(uow: StockUnit) -> Warehouse:
            return await self._revise(uow, who, cmd.warehouse_id, cmd.etag, renamed)

        key = idempotency.Key(who.tenant_id, request_id, "UpdateWarehouse")
        return await self.units.once(key, cmd, Warehouse)(work)

    async def set_archived(self, who: Principal, request_id: str, cmd: commands.SetArchived) -> Warehouse:
        async def work(uow: StockUnit) -> Warehouse:
            holds = cmd.archived and await uow.warehouses.holds_anything(who.tenant_id, cmd.warehouse_id)

            def archived(current: Warehouse) -> Warehouse:
                if holds:
                    raise FailedPrecondition(
                        "the warehouse still holds stock or reservations",
                        [
                            PreconditionViolation(
                                "WAREHOUSE_NOT_EMPTY",
                                warehouse_name(current.id),
                                "move or adjust it out first",
                            )
                        ],
                        reason="WAREHOUSE_NOT_EMPTY",
                    )
                now = self.now()
                return dataclasses.replace(
                    current,
                    status=WarehouseStatus.ARCHIVED if cmd.archived else WarehouseStatus.ACTIVE,
                    archived_at=now if cmd.archived else None,
                    updated_at=now,
                )

            return await self._revise(uow, who, cmd.warehouse_id, cmd.etag, archived)

        operation = "ArchiveWarehouse" if cmd.archived else "UnarchiveWarehouse"
        key = idempotency.Key(who.tenant_id, request_id, operation)
        return await self.units.once(key, cmd, Warehouse)(work)

    async def _revise(
        self,
        uow: StockUnit,
        who: Principal,
        warehouse_id: str,
        given_etag: str,
        change: Callable[[Warehouse], Warehouse],
    ) -> Warehouse:
        return await revise(
            await uow.warehouses.get(who.tenant_id, warehouse_id),
            change,
            uow.warehouses.save,
            kind="warehouse",
            name=warehouse_name(warehouse_id),
            given_etag=given_etag,
        )
