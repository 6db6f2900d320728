"""svc_procure's gRPC servicers: proto in, command to a use case, proto out.

RPCs not overridden here answer UNIMPLEMENTED (the generated base class);
their access rules are still declared so the server fails closed."""

from __future__ import annotations

from kit import auth, protos
from kit.identity import Role
from kit.rpc import Context
from stockmesh.procure.v1 import procure_pb2 as pb
from stockmesh.procure.v1 import procure_pb2_grpc
from svc_procure import commands, convert, messages
from svc_procure.domain.suppliers import SupplierItem
from svc_procure.usecases.drafts import ProposalDrafts
from svc_procure.usecases.orders import Orders
from svc_procure.usecases.receiving import Receiving
from svc_procure.usecases.replenishment import Replenishment
from svc_procure.usecases.supplier_items import SupplierItems
from svc_procure.usecases.suppliers import Suppliers

SUPPLIER = "stockmesh.procure.v1.SupplierService"
ORDER = "stockmesh.procure.v1.PurchaseOrderService"
REPLENISHMENT = "stockmesh.procure.v1.ReplenishmentService"

BUYING = auth.roles(Role.MANAGER, Role.BUYER)
READERS = auth.ANY_USER

SUPPLIER_PATHS = {
    "display_name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "default_lead_time",
    "note",
}
ITEM_PATHS = {"supplier_sku", "unit_cost", "lead_time", "minimum_order_quantity", "pack_size", "preferred"}
ORDER_PATHS = {"warehouse", "lines", "expected_delivery_time", "supplier_reference", "note"}

RULES: dict[str, auth.Rule] = {
    f"/{SUPPLIER}/CreateSupplier": BUYING,
    f"/{SUPPLIER}/GetSupplier": READERS,
    f"/{SUPPLIER}/ListSuppliers": READERS,
    f"/{SUPPLIER}/UpdateSupplier": BUYING,
    f"/{SUPPLIER}/ArchiveSupplier": BUYING,
    f"/{SUPPLIER}/UnarchiveSupplier": BUYING,
    f"/{SUPPLIER}/CreateSupplierItem": BUYING,
    f"/{SUPPLIER}/GetSupplierItem": READERS,
    f"/{SUPPLIER}/ListSupplierItems": READERS,
    f"/{SUPPLIER}/UpdateSupplierItem": BUYING,
    f"/{SUPPLIER}/ArchiveSupplierItem": BUYING,
    f"/{SUPPLIER}/UnarchiveSupplierItem": BUYING,
    f"/{ORDER}/CreatePurchaseOrder": BUYING,
    f"/{ORDER}/GetPurchaseOrder": READERS,
    f"/{ORDER}/ListPurchaseOrders": READERS,
    f"/{ORDER}/UpdatePurchaseOrder": BUYING,
    f"/{ORDER}/SubmitPurchaseOrder": BUYING,
    f"/{ORDER}/CancelPurchaseOrder": BUYING,  # buyers: DRAFT only (in the use case)
    f"/{ORDER}/ClosePurchaseOrder": auth.roles(Role.MANAGER),
    f"/{ORDER}/ReceivePurchaseOrder": auth.roles(Role.MANAGER, Role.CLERK),
    f"/{ORDER}/GetReceipt": READERS,
    f"/{ORDER}/ListReceipts": READERS,
    f"/{REPLENISHMENT}/ProposeReplenishment": READERS,
    f"/{REPLENISHMENT}/CreatePurchaseOrdersFromProposal": BUYING,
}


class SupplierServicer(procure_pb2_grpc.SupplierServiceServicer):
    def __init__(self, suppliers: Suppliers, items: SupplierItems) -> None:
        self.suppliers = suppliers
        self.items = items

    async def CreateSupplier(
        self, request: pb.CreateSupplierRequest, context: Context
    ) -> pb.CreateSupplierResponse:
        cmd = convert.create_supplier(request.supplier)
        created = await self.suppliers.create(auth.principal(), request.request_id, cmd)
        return pb.CreateSupplierResponse(supplier=messages.supplier(created))

    async def GetSupplier(self, request: pb.GetSupplierRequest, context: Context) -> pb.GetSupplierResponse:
        found = await self.suppliers.get(auth.principal(), convert.supplier_id(request.name))
        return pb.GetSupplierResponse(supplier=messages.supplier(found))

    async def CreateSupplierItem(
        self, request: pb.CreateSupplierItemRequest, context: Context
    ) -> pb.CreateSupplierItemResponse:
        cmd = convert.create_item(request.parent, request.supplier_item)
        created = await self.items.create(auth.principal(), request.request_id, cmd)
        return pb.CreateSupplierItemResponse(supplier_item=await self._item(created))

    async def GetSupplierItem(
        self, request: pb.GetSupplierItemRequest, context: Context
    ) -> pb.GetSupplierItemResponse:
        supplier_id, item_id = convert.child(request.name, "suppliers", "items", "name")
        found = await self.items.get(auth.principal(), supplier_id, item_id)
        return pb.GetSupplierItemResponse(supplier_item=await self._item(found))

    async def ListSuppliers(
        self, request: pb.ListSuppliersRequest, context: Context
    ) -> pb.ListSuppliersResponse:
        query = convert.list_suppliers(request)
        page = await self.suppliers.list_suppliers(auth.principal(), query)
        return pb.ListSuppliersResponse(
            suppliers=[messages.supplier(s) for s in page.items], next_page_token=page.next_page_token
        )

    async def UpdateSupplier(
        self, request: pb.UpdateSupplierRequest, context: Context
    ) -> pb.UpdateSupplierResponse:
        paths = protos.update_paths(list(request.update_mask.paths), SUPPLIER_PATHS)
        cmd = convert.update_supplier(request.supplier, paths)
        changed = await self.suppliers.update(auth.principal(), request.request_id, cmd)
        return pb.UpdateSupplierResponse(supplier=messages.supplier(changed))

    async def ArchiveSupplier(
        self, request: pb.ArchiveSupplierRequest, context: Context
    ) -> pb.ArchiveSupplierResponse:
        cmd = commands.SetArchived(convert.supplier_id(request.name), request.etag, archived=True)
        changed = await self.suppliers.set_archived(auth.principal(), request.request_id, cmd)
        return pb.ArchiveSupplierResponse(supplier=messages.supplier(changed))

    async def UnarchiveSupplier(
        self, request: pb.UnarchiveSupplierRequest, context: Context
    ) -> pb.UnarchiveSupplierResponse:
        cmd = commands.SetArchived(convert.supplier_id(request.name), request.etag, archived=False)
        changed = await self.suppliers.set_archived(auth.principal(), request.request_id, cmd)
        return pb.UnarchiveSupplierResponse(supplier=messages.supplier(changed))

    async def ListSupplierItems(
        self, request: pb.ListSupplierItemsRequest, context: Context
    ) -> pb.ListSupplierItemsResponse:
        query = convert.list_items(request)
        page = await self.items.list_items(auth.principal(), query)
        return pb.ListSupplierItemsResponse(
            supplier_items=await self._items(page.items), next_page_token=page.next_page_token
        )

    async def UpdateSupplierItem(
        self, request: pb.UpdateSupplierItemRequest, context: Context
    ) -> pb.UpdateSupplierItemResponse:
        paths = protos.update_paths(list(request.update_mask.paths), ITEM_PATHS)
        cmd = convert.update_item(request.supplier_item, paths)
        changed = await self.items.update(auth.principal(), request.request_id, cmd)
        return pb.UpdateSupplierItemResponse(supplier_item=await self._item(changed))

    async def ArchiveSupplierItem(
        self, request: pb.ArchiveSupplierItemRequest, context: Context
    ) -> pb.ArchiveSupplierItemResponse:
        supplier_id, item_id = convert.child(request.name, "suppliers", "items", "name")
        cmd = commands.SetArchived(supplier_id, request.etag, archived=True, item_id=item_id)
        changed = await self.items.set_archived(auth.principal(), request.request_id, cmd)
        return pb.ArchiveSupplierItemResponse(supplier_item=await self._item(changed))

    async def UnarchiveSupplierItem(
        self, request: pb.UnarchiveSupplierItemRequest, context: Context
    ) -> pb.UnarchiveSupplierItemResponse:
        supplier_id, item_id = convert.child(request.name, "suppliers", "items", "name")
        cmd = commands.SetArchived(supplier_id, request.etag, archived=False, item_id=item_id)
        changed = await self.items.set_archived(auth.principal(), request.request_id, cmd)
        return pb.UnarchiveSupplierItemResponse(supplier_item=await self._item(changed))

    async def _items(self, items: list[SupplierItem]) -> list[pb.SupplierItem]:
        """Items with their suppliers' currency and default lead time, each supplier read once."""
        who = auth.principal()
        owners = {sid: await self.suppliers.get(who, sid) for sid in {i.supplier_id for i in items}}
        return [
            messages.item(
                i, owners[i.supplier_id].currency_code, owners[i.supplier_id].default_lead_time_days
            )
            for i in items
        ]

    async def _item(self, item: SupplierItem) -> pb.SupplierItem:
        s = await self.suppliers.get(auth.principal(), item.supplier_id)
        return messages.item(item, s.currency_code, s.default_lead_time_days)


class PurchaseOrderServicer(procure_pb2_grpc.PurchaseOrderServiceServicer):
    def __init__(self, orders: Orders, receiving: Receiving) -> None:
        self.orders = orders
        self.receiving = receiving

    async def CreatePurchaseOrder(
        self, request: pb.CreatePurchaseOrderRequest, context: Context
    ) -> pb.CreatePurchaseOrderResponse:
        cmd = convert.create_order(request.purchase_order)
        created = await self.orders.create(auth.principal(), request.request_id, cmd)
        return pb.CreatePurchaseOrderResponse(purchase_order=messages.order(created))

    async def GetPurchaseOrder(
        self, request: pb.GetPurchaseOrderRequest, context: Context
    ) -> pb.GetPurchaseOrderResponse:
        found = await self.orders.get(auth.principal(), convert.order_id(request.name))
        return pb.GetPurchaseOrderResponse(purchase_order=messages.order(found))

    async def SubmitPurchaseOrder(
        self, request: pb.SubmitPurchaseOrderRequest, context: Context
    ) -> pb.SubmitPurchaseOrderResponse:
        cmd = commands.Transition(convert.order_id(request.name), request.etag)
        changed = await self.orders.submit(auth.principal(), request.request_id, cmd)
        return pb.SubmitPurchaseOrderResponse(purchase_order=messages.order(changed))

    async def CancelPurchaseOrder(
        self, request: pb.CancelPurchaseOrderRequest, context: Context
    ) -> pb.CancelPurchaseOrderResponse:
        cmd = commands.Transition(convert.order_id(request.name), request.etag, request.reason)
        changed = await self.orders.cancel(auth.principal(), request.request_id, cmd)
        return pb.CancelPurchaseOrderResponse(purchase_order=messages.order(changed))

    async def ReceivePurchaseOrder(
        self, request: pb.ReceivePurchaseOrderRequest, context: Context
    ) -> pb.ReceivePurchaseOrderResponse:
        cmd = commands.ReceivePurchaseOrder(
            convert.order_id(request.name),
            tuple(commands.NewLine(line.sku, line.quantity) for line in request.lines),
            request.delivery_note,
            request.note,
            request.etag,
        )
        done = await self.receiving.receive(auth.principal(), request.request_id, cmd)
        return pb.ReceivePurchaseOrderResponse(
            receipt=messages.receipt(done.receipt), purchase_order=messages.order(done.order)
        )

    async def GetReceipt(self, request: pb.GetReceiptRequest, context: Context) -> pb.GetReceiptResponse:
        order_id, receipt_id = convert.child(request.name, "purchaseOrders", "receipts", "name")
        found = await self.receiving.get_receipt(auth.principal(), order_id, receipt_id)
        return pb.GetReceiptResponse(receipt=messages.receipt(found))

    async def ListPurchaseOrders(
        self, request: pb.ListPurchaseOrdersRequest, context: Context
    ) -> pb.ListPurchaseOrdersResponse:
        query = convert.list_orders(request)
        page = await self.orders.list_orders(auth.principal(), query)
        return pb.ListPurchaseOrdersResponse(
            purchase_orders=[messages.order(o) for o in page.items], next_page_token=page.next_page_token
        )

    async def UpdatePurchaseOrder(
        self, request: pb.UpdatePurchaseOrderRequest, context: Context
    ) -> pb.UpdatePurchaseOrderResponse:
        paths = protos.update_paths(list(request.update_mask.paths), ORDER_PATHS)
        cmd = convert.update_order(request.purchase_order, paths)
        changed = await self.orders.update(auth.principal(), request.request_id, cmd)
        return pb.UpdatePurchaseOrderResponse(purchase_order=messages.order(changed))

    async def ClosePurchaseOrder(
        self, request: pb.ClosePurchaseOrderRequest, context: Context
    ) -> pb.ClosePurchaseOrderResponse:
        cmd = commands.Transition(convert.order_id(request.name), request.etag, request.reason)
        changed = await self.orders.close(auth.principal(), request.request_id, cmd)
        return pb.ClosePurchaseOrderResponse(purchase_order=messages.order(changed))

    async def ListReceipts(
        self, request: pb.ListReceiptsRequest, context: Context
    ) -> pb.ListReceiptsResponse:
        query = convert.list_receipts(request)
        page = await self.receiving.list_receipts(auth.principal(), query)
        return pb.ListReceiptsResponse(
            receipts=[messages.receipt(r) for r in page.items], next_page_token=page.next_page_token
        )


class ReplenishmentServicer(procure_pb2_grpc.ReplenishmentServiceServicer):
    def __init__(self, replenishment: Replenishment, drafts: ProposalDrafts) -> None:
        self.replenishment = replenishment
        self.drafts = drafts

    async def CreatePurchaseOrdersFromProposal(
        self, request: pb.CreatePurchaseOrdersFromProposalRequest, context: Context
    ) -> pb.CreatePurchaseOrdersFromProposalResponse:
        cmd = convert.create_from_proposal(request)
        created = await self.drafts.create(auth.principal(), request.request_id, cmd)
        return pb.CreatePurchaseOrdersFromProposalResponse(
            purchase_orders=[messages.order(o) for o in created.orders]
        )

    async def ProposeReplenishment(
        self, request: pb.ProposeReplenishmentRequest, context: Context
    ) -> pb.ProposeReplenishmentResponse:
        cmd = convert.propose(request)
        found = await self.replenishment.propose(auth.principal(), cmd)
        return pb.ProposeReplenishmentResponse(
            proposals=[
                messages.proposal(c, request.warehouse, found.window_days, found.coverage_days)
                for c in found.candidates
            ],
            truncated=found.truncated,
            demand_window=messages.duration(found.window_days),
            coverage=messages.duration(found.coverage_days),
            compute_time=protos.timestamp(found.computed_at),
        )
