"""Purchase orders: create, read, submit, cancel, receive; and booking receipts.

Receiving is two steps. First, in one transaction, the receipt is stored
PENDING together with the order's new quantities and state. Then it is booked
in svc_stock with a request_id derived from the receipt id alone, and marked
BOOKED. If the booking call fails, times out, or this process dies in between,
the receipt stays PENDING and the booking loop (or a repeat of the request)
asks svc_stock again with the same request_id: svc_stock applies it at most
once, so every receipt books exactly once.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, etag, idempotency, paging
from kit.context import system_work
from kit.db import Database
from kit.errors import FailedPrecondition, NotFound, PermissionDenied, PreconditionViolation, Violations
from kit.identity import Principal, Role
from svc_procure import commands, domain, store
from svc_procure.catalog import SkuDirectory
from svc_procure.domain import (
    ItemTerms,
    OrderLine,
    PurchaseOrder,
    PurchaseOrderState,
    Receipt,
    ReceiptState,
    Status,
    Supplier,
    SupplierItem,
)
from svc_procure.stock import StockLedger
from svc_procure.usecases.suppliers import Page, supplier_name

log = logging.getLogger(__name__)
MAX_LINES = 500
MAX_PROPOSAL_LINES = 1000
DRAFT_ONLY = {"warehouse", "lines"}


def order_name(order_id: str) -> str:
    return f"purchaseOrders/{order_id}"


def receipt_name(order_id: str, receipt_id: str) -> str:
    return f"purchaseOrders/{order_id}/receipts/{receipt_id}"


def order_etag(o: PurchaseOrder) -> str:
    return etag.etag(order_name(o.id), o.version)


@dataclass(frozen=True)
class Drafts:
    orders: list[PurchaseOrder]


@dataclass(frozen=True)
class Received:
    receipt: Receipt
    order: PurchaseOrder


def check_new_lines(lines: tuple[commands.NewLine, ...], prefix: str, field: str) -> None:
    violations = Violations()
    if len(lines) > MAX_LINES:
        violations.add(prefix, f"at most {MAX_LINES} lines")
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if not line.sku:
            violations.add(f"{prefix}[{i}].sku", "required")
        elif line.sku in seen:
            violations.add(f"{prefix}[{i}].sku", "a SKU may appear on one line only")
        seen.add(line.sku)
        if line.quantity < 1:
            violations.add(f"{prefix}[{i}].{field}", "at least 1")
    violations.raise_if_any()


def draft(
    who: Principal,
    supplier: Supplier,
    warehouse_id: str,
    lines: Sequence[commands.NewLine],
    items: Mapping[str, SupplierItem],
    now: datetime,
    note: str,
) -> PurchaseOrder:
    """A new DRAFT at the items' current costs; the caller checked the line rules."""
    order_id = str(uuid.uuid4())
    return PurchaseOrder(
        id=order_id,
        tenant_id=who.tenant_id,
        number=f"PO-{now:%Y%m%d}-{order_id[:8].upper()}",
        supplier_id=supplier.id,
        warehouse_id=warehouse_id,
        state=PurchaseOrderState.DRAFT,
        lines=tuple(
            OrderLine(
                n.sku, items[n.sku].id, items[n.sku].supplier_sku, n.quantity, 0, items[n.sku].unit_cost_nanos
            )
            for n in lines
        ),
        currency_code=supplier.currency_code,
        expected_delivery_at=None,
        supplier_reference="",
        note=note,
        creator=who.user_id,
        created_at=now,
        updated_at=now,
        submitted_at=None,
        ended_at=None,
        end_reason="",
        version=1,
    )


class Orders:
    def __init__(
        self, db: Database, stock: StockLedger, catalog: SkuDirectory, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.stock = stock
        self.catalog = catalog
        self.now = clock

    async def create(
        self, who: Principal, request_id: str, cmd: commands.CreatePurchaseOrder
    ) -> PurchaseOrder:
        check_new_lines(cmd.lines, "purchase_order.lines", "quantity_ordered")
        await self._check_skus(cmd.lines)
        await self._check_warehouse(cmd.warehouse_id, "purchase_order.warehouse")

        async def work(conn: AsyncConnection) -> PurchaseOrder:
            supplier = await store.supplier(conn, who.tenant_id, cmd.supplier_id)
            if supplier is None:
                raise errors.InvalidArgument(
                    [errors.FieldViolation("purchase_order.supplier", "no such supplier")]
                )
            if supplier.status is Status.ARCHIVED:
                raise FailedPrecondition("the supplier is archived", reason="SUPPLIER_ARCHIVED")
            items = await self._items(conn, who, supplier.id, [(n.sku, n.quantity) for n in cmd.lines])
            o = draft(who, supplier, cmd.warehouse_id, cmd.lines, items, self.now(), cmd.note)
            o = dataclasses.replace(o, supplier_reference=cmd.supplier_reference)
            await store.insert_order(conn, o)
            return o

        key = idempotency.Key(who.tenant_id, request_id, "CreatePurchaseOrder")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, PurchaseOrder, work)

    async def get(self, who: Principal, order_id: str) -> PurchaseOrder:
        async with self.db.snapshot() as conn:
            found = await store.order(conn, who.tenant_id, order_id)
        if found is None:
            raise NotFound("purchase order", order_name(order_id))
        return found

    async def submit(self, who: Principal, request_id: str, cmd: commands.Transition) -> PurchaseOrder:
        async def work(conn: AsyncConnection) -> PurchaseOrder:
            current = await self._current(conn, who, cmd.order_id, cmd.etag)
            state = domain.transition(current.state, PurchaseOrderState.SUBMITTED)
            if not current.lines:
                raise FailedPrecondition("a purchase order needs at least one line", reason="NO_LINES")
            supplier = await store.supplier(conn, who.tenant_id, current.supplier_id)
            if supplier is None or supplier.status is Status.ARCHIVED:
                raise FailedPrecondition("the supplier is archived", reason="SUPPLIER_ARCHIVED")
            lines = [(line.sku, line.quantity_ordered) for line in current.lines]
            items = await self._items(conn, who, supplier.id, lines)
            now = self.now()
            lead = max(
                (i.lead_time_days if i.lead_time_days is not None else supplier.default_lead_time_days)
                for i in items.values()
            )
            changed = dataclasses.replace(
                current,
                state=state,
                submitted_at=now,
                expected_delivery_at=current.expected_delivery_at or now + timedelta(days=lead),
                updated_at=now,
                version=current.version + 1,
            )
            return await self._save(conn, current, changed)

        await self._check_warehouse_of(who, cmd.order_id)
        key = idempotency.Key(who.tenant_id, request_id, "SubmitPurchaseOrder")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, PurchaseOrder, work)

    async def cancel(self, who: Principal, request_id: str, cmd: commands.Transition) -> PurchaseOrder:
        async def work(conn: AsyncConnection) -> PurchaseOrder:
            current = await self._current(conn, who, cmd.order_id, cmd.etag)
            state = domain.transition(current.state, PurchaseOrderState.CANCELLED)
            # The contract's qualified role: buyers may cancel only what was never sent.
            if current.state is not PurchaseOrderState.DRAFT and not who.holds_any(frozenset({Role.MANAGER})):
                raise PermissionDenied(
                    "a buyer may cancel DRAFT purchase orders only", reason="ROLE_REQUIRED"
                )
            now = self.now()
            changed = dataclasses.replace(
                current,
                state=state,
                ended_at=now,
                end_reason=cmd.reason,
                updated_at=now,
                version=current.version + 1,
            )
            return await self._save(conn, current, changed)

        key = idempotency.Key(who.tenant_id, request_id, "CancelPurchaseOrder")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, PurchaseOrder, work)

    async def receive(self, who: Principal, request_id: str, cmd: commands.ReceivePurchaseOrder) -> Received:
        check_new_lines(cmd.lines, "lines", "quantity")
        if not cmd.lines:
            raise errors.InvalidArgument([errors.FieldViolation("lines", "1 to 500 lines")])

        async def work(conn: AsyncConnection) -> Received:
            current = await self._current(conn, who, cmd.order_id, cmd.etag)
            on_order = {line.sku for line in current.lines}
            violations = Violations()
            for i, line in enumerate(cmd.lines):
                if line.sku not in on_order:
                    violations.add(f"lines[{i}].sku", "not a line of this purchase order")
            violations.raise_if_any()
            lines = [domain.Line(x.sku, x.quantity_ordered, x.quantity_received) for x in current.lines]
            state, received = domain.receive(current.state, lines, {x.sku: x.quantity for x in cmd.lines})
            now = self.now()
            changed = dataclasses.replace(
                current,
                state=state,
                lines=tuple(dataclasses.replace(x, quantity_received=received[x.sku]) for x in current.lines),
                ended_at=now if state is PurchaseOrderState.RECEIVED else None,
                updated_at=now,
                version=current.version + 1,
            )
            saved = await self._save(conn, current, changed)
            receipt = Receipt(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                purchase_order_id=current.id,
                warehouse_id=current.warehouse_id,
                lines=tuple((x.sku, x.quantity) for x in cmd.lines),
                state=ReceiptState.PENDING,
                delivery_note=cmd.delivery_note,
                note=cmd.note,
                receiver=who.user_id,
                stock_movements=(),
                received_at=now,
                booked_at=None,
            )
            await store.insert_receipt(conn, receipt)
            return Received(receipt, saved)

        key = idempotency.Key(who.tenant_id, request_id, "ReceivePurchaseOrder")
        first = await idempotency.once(self.db, store.idempotency_records, key, cmd, Received, work)
        # A repeat gets the first result, but the receipt's state as it is now;
        # if still PENDING, this is one more (harmless) attempt to book it.
        receipt = await self.get_receipt(who, first.receipt.purchase_order_id, first.receipt.id)
        if receipt.state is ReceiptState.PENDING:
            receipt = await self._book(receipt)
        return Received(receipt, first.order)

    async def get_receipt(self, who: Principal, order_id: str, receipt_id: str) -> Receipt:
        async with self.db.snapshot() as conn:
            found = await store.receipt(conn, who.tenant_id, order_id, receipt_id)
        if found is None:
            raise NotFound("receipt", receipt_name(order_id, receipt_id))
        return found

    async def book_pending(self, limit: int = 100) -> int:
        """The booking loop's body: one attempt at every PENDING receipt, as
        this service's own system work in the receipt's tenant (no user is
        behind a retry; svc_stock admits svc-procure for ReceiveStock)."""
        async with self.db.snapshot() as conn:
            pending = await store.pending_receipts(conn, limit)
        booked = 0
        for receipt in pending:
            with system_work(receipt.tenant_id):
                done = await self._book(receipt)
            booked += done.state is ReceiptState.BOOKED
        return booked

    async def _book(self, receipt: Receipt) -> Receipt:
        """Books `receipt` in svc_stock; returns it BOOKED, or still PENDING if
        svc_stock could not be reached (the loop tries again)."""
        try:
            movements = await self.stock.receive(
                domain.receipt_request_id(receipt.id),
                receipt.warehouse_id,
                receipt.lines,
                receipt_name(receipt.purchase_order_id, receipt.id),
            )
        except errors.ServiceError as exc:
            log.warning("receipt booking deferred", extra={"receipt": receipt.id, "error": str(exc)})
            return receipt
        now = self.now()
        async with self.db.transaction() as conn:
            await store.mark_booked(conn, receipt, movements, now)
        return dataclasses.replace(
            receipt, state=ReceiptState.BOOKED, stock_movements=tuple(movements), booked_at=now
        )

    async def list_orders(self, who: Principal, query: commands.ListQuery) -> Page[PurchaseOrder]:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        before = (datetime.fromisoformat(str(cursor["t"])), str(cursor["i"])) if cursor else None
        async with self.db.snapshot() as conn:
            found = await store.list_orders(
                conn,
                who.tenant_id,
                states=query.states,
                supplier_id=query.parent_id,
                warehouse_id=query.warehouse_id,
                sku=query.sku,
                start=query.start,
                end=query.end,
                before=before,
                limit=size + 1,
            )
        last = found[size - 1] if len(found) > size else None
        token = paging.encode({"t": last.created_at.isoformat(), "i": last.id}) if last else ""
        return Page(found[:size], token)

    async def update(
        self, who: Principal, request_id: str, cmd: commands.UpdatePurchaseOrder
    ) -> PurchaseOrder:
        paths = set(cmd.paths)
        if "lines" in paths:
            check_new_lines(cmd.lines, "purchase_order.lines", "quantity_ordered")
            await self._check_skus(cmd.lines)
        if "warehouse" in paths:
            await self._check_warehouse(cmd.warehouse_id, "purchase_order.warehouse")

        async def work(conn: AsyncConnection) -> PurchaseOrder:
            current = await self._current(conn, who, cmd.order_id, cmd.etag)
            if current.state not in (PurchaseOrderState.DRAFT, *domain.OPEN):
                raise FailedPrecondition(
                    f"a {current.state.value} purchase order takes no updates", reason="PURCHASE_ORDER_FINAL"
                )
            if current.state is not PurchaseOrderState.DRAFT and paths & DRAFT_ONLY:
                raise FailedPrecondition(
                    f"{', '.join(sorted(paths & DRAFT_ONLY))} can change only while the order is a draft",
                    reason="PURCHASE_ORDER_NOT_DRAFT",
                )
            lines = current.lines
            if "lines" in paths:
                supplier = await store.supplier(conn, who.tenant_id, current.supplier_id)
                assert supplier is not None  # an order's supplier is never deleted
                items = await self._items(conn, who, supplier.id, [(n.sku, n.quantity) for n in cmd.lines])
                lines = draft(who, supplier, current.warehouse_id, cmd.lines, items, self.now(), "").lines
            changed = dataclasses.replace(
                current,
                warehouse_id=cmd.warehouse_id if "warehouse" in paths else current.warehouse_id,
                lines=lines,
                expected_delivery_at=cmd.expected_delivery_at
                if "expected_delivery_time" in paths
                else current.expected_delivery_at,
                supplier_reference=cmd.supplier_reference
                if "supplier_reference" in paths
                else current.supplier_reference,
                note=cmd.note if "note" in paths else current.note,
                updated_at=self.now(),
                version=current.version + 1,
            )
            return await self._save(conn, current, changed)

        key = idempotency.Key(who.tenant_id, request_id, "UpdatePurchaseOrder")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, PurchaseOrder, work)

    async def close(self, who: Principal, request_id: str, cmd: commands.Transition) -> PurchaseOrder:
        async def work(conn: AsyncConnection) -> PurchaseOrder:
            current = await self._current(conn, who, cmd.order_id, cmd.etag)
            now = self.now()
            changed = dataclasses.replace(
                current,
                state=domain.transition(current.state, PurchaseOrderState.CLOSED),
                ended_at=now,
                end_reason=cmd.reason,
                updated_at=now,
                version=current.version + 1,
            )
            return await self._save(conn, current, changed)

        key = idempotency.Key(who.tenant_id, request_id, "ClosePurchaseOrder")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, PurchaseOrder, work)

    async def list_receipts(self, who: Principal, query: commands.ListQuery) -> Page[Receipt]:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        before = (datetime.fromisoformat(str(cursor["t"])), str(cursor["i"])) if cursor else None
        async with self.db.snapshot() as conn:
            found = await store.list_receipts(
                conn,
                who.tenant_id,
                order_id=query.parent_id,
                warehouse_id=query.warehouse_id,
                state=query.status,
                start=query.start,
                end=query.end,
                before=before,
                limit=size + 1,
            )
        last = found[size - 1] if len(found) > size else None
        token = paging.encode({"t": last.received_at.isoformat(), "i": last.id}) if last else ""
        return Page(found[:size], token)

    async def create_from_proposal(
        self, who: Principal, request_id: str, cmd: commands.CreateFromProposal
    ) -> Drafts:
        """One DRAFT per supplier of the lines' items, all or none."""
        violations = Violations()
        if not 1 <= len(cmd.lines) <= MAX_PROPOSAL_LINES:
            violations.add("lines", f"1 to {MAX_PROPOSAL_LINES} lines")
        seen: set[str] = set()
        for i, line in enumerate(cmd.lines):
            if not line.sku:
                violations.add(f"lines[{i}].sku", "required")
            elif line.sku in seen:
                violations.add(f"lines[{i}].sku", "a SKU may appear on one line only")
            seen.add(line.sku)
            if line.quantity < 1:
                violations.add(f"lines[{i}].quantity", "at least 1")
        violations.raise_if_any()
        await self._check_warehouse(cmd.warehouse_id, "warehouse")

        async def work(conn: AsyncConnection) -> Drafts:
            by_supplier: dict[str, list[tuple[int, commands.ProposalLine, SupplierItem]]] = {}
            suppliers: dict[str, Supplier] = {}
            bad = Violations()
            archived: list[PreconditionViolation] = []
            for i, line in enumerate(cmd.lines):
                item = await store.item(conn, who.tenant_id, line.supplier_id, line.item_id)
                supplier = await store.supplier(conn, who.tenant_id, line.supplier_id)
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
                by_supplier.setdefault(supplier.id, []).append((i, line, item))
            bad.raise_if_any()
            if archived:
                raise FailedPrecondition(
                    "some lines name archived items or suppliers", archived, reason=archived[0].type
                )
            rules = [(line.sku, line.quantity) for group in by_supplier.values() for _, line, _ in group]
            terms = {
                item.sku: ItemTerms(item.minimum_order_quantity, item.pack_size)
                for group in by_supplier.values()
                for _, _, item in group
            }
            domain.check_lines(rules, terms)
            now = self.now()
            drafts = []
            for supplier_id in sorted(by_supplier, key=supplier_name):
                group = by_supplier[supplier_id]
                new = [commands.NewLine(line.sku, line.quantity) for _, line, _ in group]
                o = draft(
                    who,
                    suppliers[supplier_id],
                    cmd.warehouse_id,
                    new,
                    {it.sku: it for _, _, it in group},
                    now,
                    cmd.note,
                )
                await store.insert_order(conn, o)
                drafts.append(o)
            return Drafts(drafts)

        key = idempotency.Key(who.tenant_id, request_id, "CreatePurchaseOrdersFromProposal")
        return await idempotency.once(self.db, store.idempotency_records, key, cmd, Drafts, work)

    async def _items(
        self, conn: AsyncConnection, who: Principal, supplier_id: str, lines: list[tuple[str, int]]
    ) -> dict[str, SupplierItem]:
        """The supplier's active items of the lines' SKUs, once every line rule holds."""
        skus = [sku for sku, _ in lines]
        items = {i.sku: i for i in await store.active_items(conn, who.tenant_id, skus, supplier_id)}
        terms = {sku: ItemTerms(i.minimum_order_quantity, i.pack_size) for sku, i in items.items()}
        domain.check_lines(lines, terms)
        return items

    async def _check_skus(self, lines: Sequence[commands.NewLine]) -> None:
        """SKUs the catalog does not know are INVALID_ARGUMENT, naming each line."""
        unknown = set(await self.catalog.unknown([line.sku for line in lines])) if lines else set()
        violations = Violations()
        for i, line in enumerate(lines):
            if line.sku in unknown:
                violations.add(f"purchase_order.lines[{i}].sku", "not a SKU of the catalog")
        violations.raise_if_any()

    async def _check_warehouse(self, warehouse_id: str, field: str) -> None:
        active = await self.stock.warehouse_active(warehouse_id)
        if active is None:
            raise errors.InvalidArgument([errors.FieldViolation(field, "no such warehouse")])
        if not active:
            raise FailedPrecondition("the warehouse is archived", reason="WAREHOUSE_ARCHIVED")

    async def _check_warehouse_of(self, who: Principal, order_id: str) -> None:
        current = await self.get(who, order_id)
        if current.state is PurchaseOrderState.DRAFT:
            await self._check_warehouse(current.warehouse_id, "purchase_order.warehouse")

    async def _current(
        self, conn: AsyncConnection, who: Principal, order_id: str, given: str
    ) -> PurchaseOrder:
        current = await store.order(conn, who.tenant_id, order_id, lock=True)
        if current is None:
            raise NotFound("purchase order", order_name(order_id))
        etag.check(order_name(current.id), current.version, given)
        return current

    async def _save(
        self, conn: AsyncConnection, current: PurchaseOrder, changed: PurchaseOrder
    ) -> PurchaseOrder:
        if not await store.save_order(conn, changed, expected_version=current.version):
            raise errors.EtagMismatch(order_name(current.id))
        return changed
