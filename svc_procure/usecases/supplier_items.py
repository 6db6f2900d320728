"""The items a supplier sells: create, read, list, update, archive."""

from __future__ import annotations

import uuid
from dataclasses import replace

from clients.catalog import Catalog, add_unknown_skus
from kit import idempotency, paging
from kit.errors import AlreadyExists, NotFound, Violations
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units, revise
from svc_procure import commands
from svc_procure.domain import suppliers as domain
from svc_procure.domain.orders import refuse_archived
from svc_procure.domain.suppliers import Status, SupplierItem
from svc_procure.names import item_name, supplier_name
from svc_procure.ports import ProcureUnit
from svc_procure.usecases.lines import more
from svc_procure.usecases.suppliers import check_lead_time, revise_if_changed

ORDER_TERMS = ("minimum_order_quantity", "pack_size")


def exists(key: str, field: str | None = None) -> AlreadyExists:
    refusal = AlreadyExists("supplier item", key, field=field)
    refusal.reason = "SUPPLIER_ITEM_EXISTS"
    return refusal


class SupplierItems:
    def __init__(self, units: Units[ProcureUnit], catalog: Catalog) -> None:
        self.units = units
        self.catalog = catalog

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateSupplierItem) -> SupplierItem:
        violations = Violations()
        if not cmd.sku:
            violations.add("supplier_item.sku", "required")
        if not cmd.supplier_sku.strip():
            violations.add("supplier_item.supplier_sku", "required")
        if cmd.unit_cost_nanos is None or cmd.unit_cost_nanos < 0:
            violations.add("supplier_item.unit_cost", "required, not negative")
        check_lead_time(cmd.lead_time_days, "supplier_item.lead_time", violations, required=False)
        for field, value in zip(ORDER_TERMS, (cmd.minimum_order_quantity, cmd.pack_size), strict=True):
            if value < 0:
                violations.add(f"supplier_item.{field}", "0 (meaning 1) or more")
        if cmd.sku and (await self.catalog.variants([cmd.sku])).unknown:
            add_unknown_skus(violations, [("supplier_item.sku", cmd.sku)])

        async def work(uow: ProcureUnit) -> SupplierItem:
            supplier = await uow.suppliers.get(who.tenant_id, cmd.supplier_id)
            found = more(violations)
            if supplier is not None and cmd.currency_code != supplier.currency_code:
                found.add("supplier_item.unit_cost.currency_code", f"must be {supplier.currency_code}")
            found.raise_if_any()
            if supplier is None:
                raise NotFound("supplier", supplier_name(cmd.supplier_id))
            refuse_archived(supplier)
            now = self.units.now()
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
            if not await uow.items.add(item):
                raise exists(f"{cmd.sku} / {item.supplier_sku}")
            return item

        key = idempotency.Key(who.tenant_id, request_id, "CreateSupplierItem")
        return await self.units.once(key, cmd, SupplierItem)(work)

    async def get(self, who: Principal, supplier_id: str, item_id: str) -> SupplierItem:
        async with self.units.read() as uow:
            found = await uow.items.get(who.tenant_id, supplier_id, item_id)
        if found is None:
            raise NotFound("supplier item", item_name(supplier_id, item_id))
        return found

    async def list_items(self, who: Principal, query: commands.ListQuery) -> Page[SupplierItem]:
        size = paging.page_size(query.page_size)
        filters = paging.filters_digest(query.parent_id, query.sku, query.status)
        cursor = paging.cursor_for(query.page_token, filters, {"s": str, "k": str, "i": str})
        after = (cursor["s"], cursor["k"], cursor["i"]) if cursor else None
        async with self.units.read() as uow:
            found = await uow.items.list(
                who.tenant_id, query.parent_id, query.sku, query.status, after, size + 1
            )
        return paging.page_of(
            found, size, lambda i: {"s": i.supplier_id, "k": i.sku, "i": i.id, "f": filters}
        )

    async def update(self, who: Principal, request_id: str, cmd: commands.UpdateSupplierItem) -> SupplierItem:
        paths = set(cmd.paths)
        violations = Violations()
        if "supplier_sku" in paths and not cmd.supplier_sku.strip():
            violations.add("supplier_item.supplier_sku", "required")
        if "unit_cost" in paths and (cmd.unit_cost_nanos is None or cmd.unit_cost_nanos < 0):
            violations.add("supplier_item.unit_cost", "required, not negative")
        check_lead_time(cmd.lead_time_days, "supplier_item.lead_time", violations, required=False)
        for field, value in zip(ORDER_TERMS, (cmd.minimum_order_quantity, cmd.pack_size), strict=True):
            if field in paths and value < 0:
                violations.add(f"supplier_item.{field}", "0 (meaning 1) or more")

        def change(current: SupplierItem) -> SupplierItem:
            return replace(
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
                updated_at=self.units.now(),
            )

        async def work(uow: ProcureUnit) -> SupplierItem:
            supplier = await uow.suppliers.get(who.tenant_id, cmd.supplier_id)
            found = more(violations)
            if "unit_cost" in paths and supplier is not None and cmd.currency_code != supplier.currency_code:
                found.add("supplier_item.unit_cost.currency_code", f"must be {supplier.currency_code}")
            found.raise_if_any()

            async def save(item: SupplierItem, expected_version: int) -> bool:
                if await uow.items.supplier_sku_taken(item):
                    raise exists(item.supplier_sku, field="supplier_item.supplier_sku")
                return await uow.items.save(item, expected_version)

            return await revise(
                await uow.items.get(who.tenant_id, cmd.supplier_id, cmd.item_id),
                change,
                save,
                kind="supplier item",
                name=item_name(cmd.supplier_id, cmd.item_id),
                given_etag=cmd.etag,
            )

        key = idempotency.Key(who.tenant_id, request_id, "UpdateSupplierItem")
        return await self.units.once(key, cmd, SupplierItem)(work)

    async def set_archived(self, who: Principal, request_id: str, cmd: commands.SetArchived) -> SupplierItem:
        name = item_name(cmd.supplier_id, cmd.item_id)

        async def work(uow: ProcureUnit) -> SupplierItem:
            now = self.units.now()
            return await revise_if_changed(
                await uow.items.get(who.tenant_id, cmd.supplier_id, cmd.item_id),
                lambda i: domain.item_archived(i, cmd.archived, now),
                uow.items.save,
                kind="supplier item",
                name=name,
                given_etag=cmd.etag,
            )

        operation = "ArchiveSupplierItem" if cmd.archived else "UnarchiveSupplierItem"
        key = idempotency.Key(who.tenant_id, request_id, operation)
        return await self.units.once(key, cmd, SupplierItem)(work)
