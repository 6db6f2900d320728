"""Suppliers and their items: create and read."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, etag, idempotency, paging
from kit.db import Database
from kit.errors import FailedPrecondition, NotFound, Violations
from kit.identity import Principal
from svc_procure import commands, domain, store
from svc_procure.catalog import SkuDirectory
from svc_procure.domain import Status, Supplier, SupplierItem

T = TypeVar("T")
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_LEAD_TIME_DAYS = 365


def supplier_name(supplier_id: str) -> str:
    return f"suppliers/{supplier_id}"


def item_name(supplier_id: str, item_id: str) -> str:
    return f"suppliers/{supplier_id}/items/{item_id}"


def supplier_etag(s: Supplier) -> str:
    return etag.etag(supplier_name(s.id), s.version)


def item_etag(i: SupplierItem) -> str:
    return etag.etag(item_name(i.supplier_id, i.id), i.version)


def check_lead_time(days: int | None, field: str, violations: Violations, *, required: bool) -> None:
    if days is None:
        if required:
            violations.add(field, "required: whole days, 0 to 365")
    elif not 0 <= days <= MAX_LEAD_TIME_DAYS:
        violations.add(field, "whole days, 0 to 365")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str


class Suppliers:
    def __init__(self, db: Database, catalog: SkuDirectory, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.catalog = catalog
        self.now = clock

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateSupplier) -> Supplier:
        violations = Violations()
        if not cmd.display_name.strip():
            violations.add("supplier.display_name", "required")
        if not CURRENCY.fullmatch(cmd.currency_code):
            violations.add("supplier.currency_code", "required: an ISO 4217 code such as EUR")
        check_lead_time(cmd.default_lead_time_days, "supplier.default_lead_time", violations, required=True)
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> Supplier:
            now = self.now()
            s = Supplier(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                display_name=cmd.display_name.strip(),
                contact_name=cmd.contact_name.strip(),
                contact_email=cmd.contact_email.strip(),
                contact_phone=cmd.contact_phone.strip(),
                currency_code=cmd.currency_code,
                default_lead_time_days=cmd.default_lead_time_days or 0,
                note=cmd.note,
                status=Status.ACTIVE,
                created_at=now,
                updated_at=now,
                archived_at=None,
                version=1,
            )
            await store.insert_supplier(conn, s)
            return s

        key = idempotency.Key(who.tenant_id, request_id, "CreateSupplier")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Supplier, work)

    async def get(self, who: Principal, supplier_id: str) -> Supplier:
        async with self.db.snapshot() as conn:
            found = await store.supplier(conn, who.tenant_id, supplier_id)
        if found is None:
            raise NotFound("supplier", supplier_name(supplier_id))
        return found

    async def create_item(
        self, who: Principal, request_id: str, cmd: commands.CreateSupplierItem
    ) -> SupplierItem:
        violations = Violations()
        if not cmd.sku:
            violations.add("supplier_item.sku", "required")
        if not cmd.supplier_sku.strip():
            violations.add("supplier_item.supplier_sku", "required")
        if cmd.unit_cost_nanos is None or cmd.unit_cost_nanos < 0:
            violations.add("supplier_item.unit_cost", "required, not negative")
        check_lead_time(cmd.lead_time_days, "supplier_item.lead_time", violations, required=False)
        if cmd.minimum_order_quantity < 0:
            violations.add("supplier_item.minimum_order_quantity", "0 (meaning 1) or more")
        if cmd.pack_size < 0:
            violations.add("supplier_item.pack_size", "0 (meaning 1) or more")
        violations.raise_if_any()
        supplier = await self.get(who, cmd.supplier_id)
        if cmd.currency_code != supplier.currency_code:
            violations.add("supplier_item.unit_cost.currency_code", f"must be {supplier.currency_code}")
        elif await self.catalog.unknown([cmd.sku]):
            violations.add("supplier_item.sku", "not a SKU of the catalog")
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> SupplierItem:
            current = await store.supplier(conn, who.tenant_id, cmd.supplier_id)
            if current is None:
                raise NotFound("supplier", supplier_name(cmd.supplier_id))
            if current.status is Status.ARCHIVED:
                raise FailedPrecondition("the supplier is archived", reason="SUPPLIER_ARCHIVED")
            now = self.now()
            item = SupplierItem(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                supplier_id=cmd.supplier_id,
                sku=cmd.sku,
                supplier_sku=cmd.supplier_sku.strip(),
                unit_cost_nanos=cmd.unit_cost_nanos or 0,
                lead_time_days=cmd.lead_time_days,
                minimum_order_quantity=cmd.minimum_order_quantity or 1,
                pack_size=cmd.pack_size or 1,
                preferred=cmd.preferred,
                status=Status.ACTIVE,
                created_at=now,
                updated_at=now,
                version=1,
            )
            if not await store.insert_item(conn, item):
                raise errors.AlreadyExists("supplier item", f"{cmd.sku} / {item.supplier_sku}")
            return item

        key = idempotency.Key(who.tenant_id, request_id, "CreateSupplierItem")
        try:
            return await idempotency.once(self.db, store.idempotency_records, key, cmd, SupplierItem, work)
        except errors.AlreadyExists as exc:
            exc.reason = "SUPPLIER_ITEM_EXISTS"
            raise

    async def get_item(self, who: Principal, supplier_id: str, item_id: str) -> SupplierItem:
        async with self.db.snapshot() as conn:
            found = await store.item(conn, who.tenant_id, supplier_id, item_id)
        if found is None:
            raise NotFound("supplier item", item_name(supplier_id, item_id))
        return found

    async def list_suppliers(self, who: Principal, query: commands.ListQuery) -> Page[Supplier]:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        after = (str(cursor["name"]), str(cursor["id"])) if cursor else None
        async with self.db.snapshot() as conn:
            found = await store.list_suppliers(conn, who.tenant_id, query.status, after)
        hits = [
            s for s in found if domain.matches(query.query, s.display_name, s.contact_name, s.contact_email)
        ][: size + 1]
        last = hits[size - 1] if len(hits) > size else None
        token = paging.encode({"name": last.display_name, "id": last.id}) if last else ""
        return Page(hits[:size], token)

    async def update(self, who: Principal, request_id: str, cmd: commands.UpdateSupplier) -> Supplier:
        violations = Violations()
        if cmd.display_name is not None and not cmd.display_name.strip():
            violations.add("supplier.display_name", "required")
        check_lead_time(cmd.default_lead_time_days, "supplier.default_lead_time", violations, required=False)
        violations.raise_if_any()

        def pick(new: str | None, old: str) -> str:
            return old if new is None else new.strip()

        async def work(conn: AsyncConnection) -> Supplier:
            current = await self._supplier(conn, who, cmd.supplier_id, cmd.etag)
            changed = dataclasses.replace(
                current,
                display_name=pick(cmd.display_name, current.display_name),
                contact_name=pick(cmd.contact_name, current.contact_name),
                contact_email=pick(cmd.contact_email, current.contact_email),
                contact_phone=pick(cmd.contact_phone, current.contact_phone),
                default_lead_time_days=current.default_lead_time_days
                if cmd.default_lead_time_days is None
                else cmd.default_lead_time_days,
                note=current.note if cmd.note is None else cmd.note,
                updated_at=self.now(),
                version=current.version + 1,
            )
            return await self._save_supplier(conn, current, changed)

        key = idempotency.Key(who.tenant_id, request_id, "UpdateSupplier")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Supplier, work)

    async def set_archived(self, who: Principal, request_id: str, cmd: commands.SetArchived) -> Supplier:
        async def work(conn: AsyncConnection) -> Supplier:
            current = await self._supplier(conn, who, cmd.supplier_id, cmd.etag)
            status = Status.ARCHIVED if cmd.archived else Status.ACTIVE
            if current.status is status:
                return current  # archiving an archived supplier changes nothing
            now = self.now()
            changed = dataclasses.replace(
                current,
                status=status,
                archived_at=now if cmd.archived else None,
                updated_at=now,
                version=current.version + 1,
            )
            return await self._save_supplier(conn, current, changed)

        operation = "ArchiveSupplier" if cmd.archived else "UnarchiveSupplier"
        key = idempotency.Key(who.tenant_id, request_id, operation)
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Supplier, work)

    async def list_items(self, who: Principal, query: commands.ListQuery) -> Page[SupplierItem]:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        after = (str(cursor["s"]), str(cursor["k"]), str(cursor["i"])) if cursor else None
        async with self.db.snapshot() as conn:
            found = await store.list_items(
                conn, who.tenant_id, query.parent_id, query.sku, query.status, after, size + 1
            )
        last = found[size - 1] if len(found) > size else None
        token = paging.encode({"s": last.supplier_id, "k": last.sku, "i": last.id}) if last else ""
        return Page(found[:size], token)

    async def update_item(
        self, who: Principal, request_id: str, cmd: commands.UpdateSupplierItem
    ) -> SupplierItem:
        paths = set(cmd.paths)
        violations = Violations()
        if "supplier_sku" in paths and not cmd.supplier_sku.strip():
            violations.add("supplier_item.supplier_sku", "required")
        if "unit_cost" in paths and (cmd.unit_cost_nanos is None or cmd.unit_cost_nanos < 0):
            violations.add("supplier_item.unit_cost", "required, not negative")
        check_lead_time(cmd.lead_time_days, "supplier_item.lead_time", violations, required=False)
        for field, value in (
            ("minimum_order_quantity", cmd.minimum_order_quantity),
            ("pack_size", cmd.pack_size),
        ):
            if field in paths and value < 0:
                violations.add(f"supplier_item.{field}", "0 (meaning 1) or more")
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> SupplierItem:
            current = await self._item(conn, who, cmd.supplier_id, cmd.item_id, cmd.etag)
            supplier = await store.supplier(conn, who.tenant_id, cmd.supplier_id)
            if "unit_cost" in paths and supplier is not None and cmd.currency_code != supplier.currency_code:
                raise errors.InvalidArgument(
                    [
                        errors.FieldViolation(
                            "supplier_item.unit_cost.currency_code", f"must be {supplier.currency_code}"
                        )
                    ]
                )
            changed = dataclasses.replace(
                current,
                supplier_sku=cmd.supplier_sku.strip() if "supplier_sku" in paths else current.supplier_sku,
                unit_cost_nanos=cmd.unit_cost_nanos
                if "unit_cost" in paths and cmd.unit_cost_nanos is not None
                else current.unit_cost_nanos,
                lead_time_days=cmd.lead_time_days if "lead_time" in paths else current.lead_time_days,
                minimum_order_quantity=(cmd.minimum_order_quantity or 1)
                if "minimum_order_quantity" in paths
                else current.minimum_order_quantity,
                pack_size=(cmd.pack_size or 1) if "pack_size" in paths else current.pack_size,
                preferred=cmd.preferred if "preferred" in paths else current.preferred,
                updated_at=self.now(),
                version=current.version + 1,
            )
            if await store.supplier_sku_taken(conn, changed):
                raise errors.AlreadyExists(
                    "supplier item", changed.supplier_sku, field="supplier_item.supplier_sku"
                )
            return await self._save_item(conn, current, changed)

        key = idempotency.Key(who.tenant_id, request_id, "UpdateSupplierItem")
        try:
            return await idempotency.once(self.db, store.idempotency_records, key, cmd, SupplierItem, work)
        except errors.AlreadyExists as exc:
            exc.reason = "SUPPLIER_ITEM_EXISTS"
            raise

    async def set_item_archived(
        self, who: Principal, request_id: str, cmd: commands.SetArchived
    ) -> SupplierItem:
        async def work(conn: AsyncConnection) -> SupplierItem:
            current = await self._item(conn, who, cmd.supplier_id, cmd.item_id, cmd.etag)
            status = Status.ARCHIVED if cmd.archived else Status.ACTIVE
            if current.status is status:
                return current
            changed = dataclasses.replace(
                current,
                status=status,
                preferred=False if cmd.archived else current.preferred,
                updated_at=self.now(),
                version=current.version + 1,
            )
            return await self._save_item(conn, current, changed)

        operation = "ArchiveSupplierItem" if cmd.archived else "UnarchiveSupplierItem"
        key = idempotency.Key(who.tenant_id, request_id, operation)
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, SupplierItem, work)

    async def _supplier(
        self, conn: AsyncConnection, who: Principal, supplier_id: str, given: str
    ) -> Supplier:
        current = await store.supplier(conn, who.tenant_id, supplier_id)
        if current is None:
            raise NotFound("supplier", supplier_name(supplier_id))
        etag.check(supplier_name(current.id), current.version, given)
        return current

    async def _save_supplier(self, conn: AsyncConnection, current: Supplier, changed: Supplier) -> Supplier:
        if not await store.save_supplier(conn, changed, expected_version=current.version):
            raise errors.EtagMismatch(supplier_name(current.id))
        return changed

    async def _item(
        self, conn: AsyncConnection, who: Principal, supplier_id: str, item_id: str, given: str
    ) -> SupplierItem:
        current = await store.item(conn, who.tenant_id, supplier_id, item_id)
        if current is None:
            raise NotFound("supplier item", item_name(supplier_id, item_id))
        etag.check(item_name(supplier_id, item_id), current.version, given)
        return current

    async def _save_item(
        self, conn: AsyncConnection, current: SupplierItem, changed: SupplierItem
    ) -> SupplierItem:
        if not await store.save_item(conn, changed, expected_version=current.version):
            raise errors.EtagMismatch(item_name(current.supplier_id, current.id))
        return changed
