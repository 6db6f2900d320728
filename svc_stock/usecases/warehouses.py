"""Warehouses: create, read, rename, archive."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, etag, idempotency, paging
from kit.db import Database
from kit.errors import FailedPrecondition, NotFound, PreconditionViolation, Violations
from kit.identity import Principal
from svc_stock import commands, domain, store
from svc_stock.domain import Warehouse, WarehouseStatus


def warehouse_name(warehouse_id: str) -> str:
    return f"warehouses/{warehouse_id}"


def warehouse_etag(w: Warehouse) -> str:
    return etag.etag(warehouse_name(w.id), w.version)


@dataclass(frozen=True)
class Page:
    warehouses: list[Warehouse]
    next_page_token: str


class Warehouses:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.now = clock

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateWarehouse) -> Warehouse:
        code = cmd.code.strip().upper()
        violations = Violations()
        domain.check_code(code, "warehouse.code", violations)
        if not cmd.display_name.strip():
            violations.add("warehouse.display_name", "required")
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> Warehouse:
            if await store.code_taken(conn, who.tenant_id, code):
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
            await store.insert_warehouse(conn, w)
            return w

        key = idempotency.Key(who.tenant_id, request_id, "CreateWarehouse")
        try:
            return await idempotency.once(self.db, store.idempotency_records, key, cmd, Warehouse, work)
        except errors.AlreadyExists as exc:
            exc.reason = "WAREHOUSE_CODE_TAKEN"
            raise

    async def get(self, who: Principal, warehouse_id: str) -> Warehouse:
        async with self.db.snapshot() as conn:
            found = await store.warehouse(conn, who.tenant_id, warehouse_id)
        if found is None:
            raise NotFound("warehouse", warehouse_name(warehouse_id))
        return found

    async def list_warehouses(self, who: Principal, query: commands.ListWarehouses) -> Page:
        size = paging.page_size(query.page_size)
        after = str(paging.decode(query.page_token).get("after_code", ""))
        async with self.db.snapshot() as conn:
            found = await store.list_warehouses(
                conn,
                who.tenant_id,
                after_code=after,
                limit=size + 1,
                status=query.status,
                code=query.code.strip().upper(),
            )
        token = paging.encode({"after_code": found[size - 1].code}) if len(found) > size else ""
        return Page(found[:size], token)

    async def update(self, who: Principal, request_id: str, cmd: commands.UpdateWarehouse) -> Warehouse:
        if cmd.display_name is not None and not cmd.display_name.strip():
            raise errors.InvalidArgument([errors.FieldViolation("warehouse.display_name", "required")])

        async def work(conn: AsyncConnection) -> Warehouse:
            current = await self._current(conn, who, cmd.warehouse_id, cmd.etag)
            changed = dataclasses.replace(
                current,
                display_name=cmd.display_name.strip()
                if cmd.display_name is not None
                else current.display_name,
                address=cmd.address if cmd.address is not None else current.address,
                updated_at=self.now(),
                version=current.version + 1,
            )
            return await self._save(conn, current, changed)

        key = idempotency.Key(who.tenant_id, request_id, "UpdateWarehouse")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Warehouse, work)

    async def set_archived(self, who: Principal, request_id: str, cmd: commands.SetArchived) -> Warehouse:
        async def work(conn: AsyncConnection) -> Warehouse:
            current = await self._current(conn, who, cmd.warehouse_id, cmd.etag)
            if cmd.archived and await store.warehouse_holds_anything(conn, who.tenant_id, current.id):
                raise FailedPrecondition(
                    "the warehouse still holds stock or reservations",
                    [
                        PreconditionViolation(
                            "WAREHOUSE_NOT_EMPTY", warehouse_name(current.id), "move or adjust it out first"
                        )
                    ],
                    reason="WAREHOUSE_NOT_EMPTY",
                )
            now = self.now()
            changed = dataclasses.replace(
                current,
                status=WarehouseStatus.ARCHIVED if cmd.archived else WarehouseStatus.ACTIVE,
                archived_at=now if cmd.archived else None,
                updated_at=now,
                version=current.version + 1,
            )
            return await self._save(conn, current, changed)

        operation = "ArchiveWarehouse" if cmd.archived else "UnarchiveWarehouse"
        key = idempotency.Key(who.tenant_id, request_id, operation)
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Warehouse, work)

    async def _current(
        self, conn: AsyncConnection, who: Principal, warehouse_id: str, given_etag: str
    ) -> Warehouse:
        current = await store.warehouse(conn, who.tenant_id, warehouse_id)
        if current is None:
            raise NotFound("warehouse", warehouse_name(warehouse_id))
        etag.check(warehouse_name(current.id), current.version, given_etag)
        return current

    async def _save(self, conn: AsyncConnection, current: Warehouse, changed: Warehouse) -> Warehouse:
        if not await store.save_warehouse(conn, changed, expected_version=current.version):
            raise errors.EtagMismatch(warehouse_name(current.id))
        return changed
