"""Purchase order drafts from a replenishment proposal: one DRAFT per
supplier of the lines' items, all or none."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kit import idempotency
from kit.errors import FailedPrecondition, PreconditionViolation, Violations
from kit.identity import Principal
from kit.uow import Units
from svc_procure import commands
from svc_procure.domain import orders as domain
from svc_procure.domain.orders import PurchaseOrder
from svc_procure.domain.suppliers import Status, Supplier, SupplierItem
from svc_procure.names import supplier_name
from svc_procure.ports import ProcureUnit
from svc_procure.stock import StockLedger
from svc_procure.usecases.lines import check_shape, check_warehouse, more, refuse_archived_warehouse

MAX_PROPOSAL_LINES = 1000


@dataclass(frozen=True)
class Drafts:
    orders: list[PurchaseOrder]


class ProposalDrafts:
    def __init__(self, units: Units[ProcureUnit], stock: StockLedger) -> None:
        self.units = units
        self.stock = stock

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateFromProposal) -> Drafts:
        violations = Violations()
        check_shape(cmd.lines, "lines", "quantity", violations, most=MAX_PROPOSAL_LINES, required=True)
        active = await check_warehouse(self.stock, cmd.warehouse_id, "warehouse", violations)

        async def work(uow: ProcureUnit) -> Drafts:
            by_supplier: dict[str, list[tuple[commands.ProposalLine, SupplierItem]]] = {}
            suppliers: dict[str, Supplier] = {}
            bad = more(violations)
            archived: list[PreconditionViolation] = []
            for i, line in enumerate(cmd.lines):
                item = await uow.items.get(who.tenant_id, line.supplier_id, line.item_id)
                supplier = await uow.suppliers.get(who.tenant_id, line.supplier_id)
                if item is None or supplier is None or item.sku != line.sku:
                    bad.add(f"lines[{i}].supplier_item", "must be an item of a supplier that sells this SKU")
                    continue
                if supplier.status is Status.ARCHIVED:
                    archived.append(
                        PreconditionViolation("SUPPLIER_ARCHIVED", line.sku, supplier_name(supplier.id))
                    )
                elif item.status is Status.ARCHIVED:
                    archived.append(
                        PreconditionViolation("SUPPLIER_ITEM_ARCHIVED", line.sku, "archived item")
                    )
                suppliers[supplier.id] = supplier
                by_supplier.setdefault(supplier.id, []).append((line, item))
            bad.raise_if_any()
            refuse_archived_warehouse(active)
            if archived:
                raise FailedPrecondition(
                    "some lines name archived items or suppliers", archived, reason=archived[0].type
                )
            domain.check_lines(
                [(line.sku, line.quantity) for group in by_supplier.values() for line, _ in group],
                domain.terms_of([item for group in by_supplier.values() for _, item in group]),
            )
            now = self.units.now()
            drafts = []
            for group in (by_supplier[s] for s in sorted(by_supplier, key=supplier_name)):
                supplier = suppliers[group[0][1].supplier_id]
                lines = domain.order_lines(
                    [(line.sku, line.quantity) for line, _ in group], {item.sku: item for _, item in group}
                )
                order = domain.draft(
                    str(uuid.uuid4()), who.user_id, supplier, cmd.warehouse_id, lines, now, cmd.note
                )
                await uow.orders.add(order)
                drafts.append(order)
            return Drafts(drafts)

        key = idempotency.Key(who.tenant_id, request_id, "CreatePurchaseOrdersFromProposal")
        return await self.units.once(key, cmd, Drafts)(work)
