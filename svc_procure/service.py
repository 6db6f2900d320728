"""svc_procure's gRPC servicers: proto in, command to a use case, proto out.

RPCs not overridden here answer UNIMPLEMENTED (the generated base class);
their access rules are still declared so the server fails closed."""

from __future__ import annotations

from kit import auth, protos
from kit.identity import Role
from kit.rpc import Context
from stockmesh.procure.v1 import procure_pb2 as pb
from stockmesh.procure.v1 import procure_pb2_grpc
from svc_procure import commands, convert, domain
from svc_procure.domain import PurchaseOrderState, ReceiptState, Status, SupplierItem
from svc_procure.usecases.orders import Orders
from svc_procure.usecases.replenishment import Replenishment
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
    def __init__(self, suppliers: Suppliers) -> None:
        self.suppliers = suppliers

    async def CreateSupplier(
        self, request: pb.CreateSupplierRequest, context: Context
    ) -> pb.CreateSupplierResponse:
        cmd = convert.create_supplier(request.supplier)
        created = await self.suppliers.create(auth.principal(), request.request_id, cmd)
        return pb.CreateSupplierResponse(supplier=convert.supplier(created))

    async def GetSupplier(self, request: pb.GetSupplierRequest, context: Context) -> pb.GetSupplierResponse:
        found = await self.suppliers.get(auth.principal(), convert.supplier_id(request.name))
        return pb.GetSupplierResponse(supplier=convert.supplier(found))

    async def CreateSupplierItem(
        self, request: pb.CreateSupplierItemRequest, context: Context
    ) -> pb.CreateSupplierItemResponse:
        cmd = convert.create_item(request.parent, request.supplier_item)
        created = await self.suppliers.create_item(auth.principal(), request.request_id, cmd)
        return pb.CreateSupplierItemResponse(supplier_item=await self._item(created))

    async def GetSupplierItem(
        self, request: pb.GetSupplierItemRequest, context: Context
    ) -> pb.GetSupplierItemResponse:
        supplier_id, item_id = convert.child(request.name, "suppliers", "items", "name")
        found = await self.suppliers.get_item(auth.principal(), supplier_id, item_id)
        return pb.GetSupplierItemResponse(supplier_item=await self._item(found))

    async def ListSuppliers(
        self, request: pb.ListSuppliersRequest, context: Context
    ) -> pb.ListSuppliersResponse:
        status = protos.enum_of(request.status, "SUPPLIER_STATUS", pb.SupplierStatus, Status, "status")
        query = commands.ListQuery(
            request.page_size, request.page_token, status.value if status else "", request.query
        )
        page = await self.suppliers.list_suppliers(auth.principal(), query)
        return pb.ListSuppliersResponse(
            suppliers=[convert.supplier(s) for s in page.items], next_page_token=page.next_page_token
        )

    async def UpdateSupplier(
        self, request: pb.UpdateSupplierRequest, context: Context
    ) -> pb.UpdateSupplierResponse:
        paths = protos.update_paths(list(request.update_mask.paths), SUPPLIER_PATHS)
        cmd = convert.update_supplier(request.supplier, paths)
        changed = await self.suppliers.update(auth.principal(), request.request_id, cmd)
        return pb.UpdateSupplierResponse(supplier=convert.supplier(changed))

    async def ArchiveSupplier(
        self, request: pb.ArchiveSupplierRequest, context: Context
    ) -> pb.ArchiveSupplierResponse:
        cmd = commands.SetArchived(convert.supplier_id(request.name), request.etag, archived=True)
        changed = await self.suppliers.set_archived(auth.principal(), request.request_id, cmd)
        return pb.ArchiveSupplierResponse(supplier=convert.supplier(changed))

    async def UnarchiveSupplier(
        self, request: pb.UnarchiveSupplierRequest, context: Context
    ) -> pb.UnarchiveSupplierResponse:
        cmd = commands.SetArchived(convert.supplier_id(request.name), request.etag, archived=False)
        changed = await self.suppliers.set_archived(auth.principal(), request.request_id, cmd)
        return pb.UnarchiveSupplierResponse(supplier=convert.supplier(changed))

    async def ListSupplierItems(
        self, request: pb.ListSupplierItemsRequest, context: Context
    ) -> pb.ListSupplierItemsResponse:
        status = protos.enum_of(
            request.status, "SUPPLIER_ITEM_STATUS", pb.SupplierItemStatus, Status, "status"
        )
        parent = convert.optional_id(request.parent, "suppliers", "parent")
        if not request.parent:
            convert.supplier_id(request.parent, "parent")
        query = commands.ListQuery(
            request.page_size,
            request.page_token,
            status.value if status else "",
            parent_id=parent,
            sku=request.sku,
        )
        page = await self.suppliers.list_items(auth.principal(), query)
        return pb.ListSupplierItemsResponse(
            supplier_items=await self._items(page.items), next_page_token=page.next_page_token
        )

    async def UpdateSupplierItem(
        self, request: pb.UpdateSupplierItemRequest, context: Context
    ) -> pb.UpdateSupplierItemResponse:
        paths = protos.update_paths(list(request.update_mask.paths), ITEM_PATHS)
        cmd = convert.update_item(request.supplier_item, paths)
        changed = await self.suppliers.update_item(auth.principal(), request.request_id, cmd)
        return pb.UpdateSupplierItemResponse(supplier_item=await self._item(changed))

    async def ArchiveSupplierItem(
        self, request: pb.ArchiveSupplierItemRequest, context: Context
    ) -> pb.ArchiveSupplierItemResponse:
        supplier_id, item_id = convert.child(request.name, "suppliers", "items", "name")
        cmd = commands.SetArchived(supplier_id, request.etag, archived=True, item_id=item_id)
        changed = await self.suppliers.set_item_archived(auth.principal(), request.request_id, cmd)
        return pb.ArchiveSupplierItemResponse(supplier_item=await self._item(changed))

    async def UnarchiveSupplierItem(
        self, request: pb.UnarchiveSupplierItemRequest, context: Context
    ) -> pb.UnarchiveSupplierItemResponse:
        supplier_id, item_id = convert.child(request.name, "suppliers", "items", "name")
        cmd = commands.SetArchived(supplier_id, request.etag, archived=False, item_id=item_id)
        changed = await self.suppliers.set_item_archived(auth.principal(), request.request_id, cmd)
        return pb.UnarchiveSupplierItemResponse(supplier_item=await self._item(changed))

    async def _items(self, items: list[SupplierItem]) -> list[pb.SupplierItem]:
        """Items with their suppliers' currency and default lead time, each supplier read once."""
        who = auth.principal()
        owners = {sid: await self.suppliers.get(who, sid) for sid in {i.supplier_id for i in items}}
        return [
            convert.item(i, owners[i.supplier_id].currency_code, owners[i.supplier_id].default_lead_time_days)
            for i in items
        ]

    async def _item(self, item: SupplierItem) -> pb.SupplierItem:
        s = await self.suppliers.get(auth.principal(), item.supplier_id)
        return convert.item(item, s.currency_code, s.default_lead_time_days)


class PurchaseOrderServicer(procure_pb2_grpc.PurchaseOrderServiceServicer):
    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    async def CreatePurchaseOrder(
        self, request: pb.CreatePurchaseOrderRequest, context: Context
    ) -> pb.CreatePurchaseOrderResponse:
        cmd = convert.create_order(request.purchase_order)
        created = await self.orders.create(auth.principal(), request.request_id, cmd)
        return pb.CreatePurchaseOrderResponse(purchase_order=convert.order(created))

    async def GetPurchaseOrder(
        self, request: pb.GetPurchaseOrderRequest, context: Context
    ) -> pb.GetPurchaseOrderResponse:
        found = await self.orders.get(auth.principal(), convert.order_id(request.name))
        return pb.GetPurchaseOrderResponse(purchase_order=convert.order(found))

    async def SubmitPurchaseOrder(
        self, request: pb.SubmitPurchaseOrderRequest, context: Context
    ) -> pb.SubmitPurchaseOrderResponse:
        cmd = commands.Transition(convert.order_id(request.name), request.etag)
        changed = await self.orders.submit(auth.principal(), request.request_id, cmd)
        return pb.SubmitPurchaseOrderResponse(purchase_order=convert.order(changed))

    async def CancelPurchaseOrder(
        self, request: pb.CancelPurchaseOrderRequest, context: Context
    ) -> pb.CancelPurchaseOrderResponse:
        cmd = commands.Transition(convert.order_id(request.name), request.etag, request.reason)
        changed = await self.orders.cancel(auth.principal(), request.request_id, cmd)
        return pb.CancelPurchaseOrderResponse(purchase_order=convert.order(changed))

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
        done = await self.orders.receive(auth.principal(), request.request_id, cmd)
        return pb.ReceivePurchaseOrderResponse(
            receipt=convert.receipt(done.receipt), purchase_order=convert.order(done.order)
        )

    async def GetReceipt(self, request: pb.GetReceiptRequest, context: Context) -> pb.GetReceiptResponse:
        order_id, receipt_id = convert.child(request.name, "purchaseOrders", "receipts", "name")
        found = await self.orders.get_receipt(auth.principal(), order_id, receipt_id)
        return pb.GetReceiptResponse(receipt=convert.receipt(found))

    async def ListPurchaseOrders(
        self, request: pb.ListPurchaseOrdersRequest, context: Context
    ) -> pb.ListPurchaseOrdersResponse:
        states = tuple(
            str(
                protos.enum_of(
                    n,
                    "PURCHASE_ORDER_STATE",
                    pb.PurchaseOrderState,
                    PurchaseOrderState,
                    "states",
                    required=True,
                )
            )
            for n in request.states
        )
        query = commands.ListQuery(
            request.page_size,
            request.page_token,
            parent_id=convert.optional_id(request.supplier, "suppliers", "supplier"),
            sku=request.sku,
            warehouse_id=convert.optional_id(request.warehouse, "warehouses", "warehouse"),
            states=states,
            start=protos.datetime_of(request, "start_time"),
            end=protos.datetime_of(request, "end_time"),
        )
        page = await self.orders.list_orders(auth.principal(), query)
        return pb.ListPurchaseOrdersResponse(
            purchase_orders=[convert.order(o) for o in page.items], next_page_token=page.next_page_token
        )

    async def UpdatePurchaseOrder(
        self, request: pb.UpdatePurchaseOrderRequest, context: Context
    ) -> pb.UpdatePurchaseOrderResponse:
        paths = protos.update_paths(list(request.update_mask.paths), ORDER_PATHS)
        cmd = convert.update_order(request.purchase_order, paths)
        changed = await self.orders.update(auth.principal(), request.request_id, cmd)
        return pb.UpdatePurchaseOrderResponse(purchase_order=convert.order(changed))

    async def ClosePurchaseOrder(
        self, request: pb.ClosePurchaseOrderRequest, context: Context
    ) -> pb.ClosePurchaseOrderResponse:
        cmd = commands.Transition(convert.order_id(request.name), request.etag, request.reason)
        changed = await self.orders.close(auth.principal(), request.request_id, cmd)
        return pb.ClosePurchaseOrderResponse(purchase_order=convert.order(changed))

    async def ListReceipts(
        self, request: pb.ListReceiptsRequest, context: Context
    ) -> pb.ListReceiptsResponse:
        state = protos.enum_of(request.state, "RECEIPT_STATE", pb.ReceiptState, ReceiptState, "state")
        if request.parent != "purchaseOrders/-":
            convert.order_id(request.parent, "parent")
        query = commands.ListQuery(
            request.page_size,
            request.page_token,
            state.value if state else "",
            parent_id=convert.optional_id(request.parent, "purchaseOrders", "parent"),
            warehouse_id=convert.optional_id(request.warehouse, "warehouses", "warehouse"),
            start=protos.datetime_of(request, "start_time"),
            end=protos.datetime_of(request, "end_time"),
        )
        page = await self.orders.list_receipts(auth.principal(), query)
        return pb.ListReceiptsResponse(
            receipts=[convert.receipt(r) for r in page.items], next_page_token=page.next_page_token
        )


class ReplenishmentServicer(procure_pb2_grpc.ReplenishmentServiceServicer):
    def __init__(self, replenishment: Replenishment, orders: Orders) -> None:
        self.replenishment = replenishment
        self.orders = orders

    async def CreatePurchaseOrdersFromProposal(
        self, request: pb.CreatePurchaseOrdersFromProposalRequest, context: Context
    ) -> pb.CreatePurchaseOrdersFromProposalResponse:
        cmd = commands.CreateFromProposal(
            convert.warehouse_id(request.warehouse, "warehouse"),
            tuple(convert.proposal_line(line, i) for i, line in enumerate(request.lines)),
            request.note,
        )
        created = await self.orders.create_from_proposal(auth.principal(), request.request_id, cmd)
        return pb.CreatePurchaseOrdersFromProposalResponse(
            purchase_orders=[convert.order(o) for o in created.orders]
        )

    async def ProposeReplenishment(
        self, request: pb.ProposeReplenishmentRequest, context: Context
    ) -> pb.ProposeReplenishmentResponse:
        window = request.demand_window
        coverage = request.coverage
        cmd = commands.ProposeReplenishment(
            convert.warehouse_id(request.warehouse, "warehouse"),
            convert.days(window, "demand_window")
            if request.HasField("demand_window")
            else domain.DEFAULT_WINDOW_DAYS,
            convert.days(coverage, "coverage")
            if request.HasField("coverage")
            else domain.DEFAULT_COVERAGE_DAYS,
            tuple(request.skus),
        )
        found = await self.replenishment.propose(auth.principal(), cmd)
        return pb.ProposeReplenishmentResponse(
            proposals=[
                convert.proposal(c, request.warehouse, found.window_days, found.coverage_days)
                for c in found.candidates
            ],
            truncated=found.truncated,
            demand_window=convert.duration(found.window_days),
            coverage=convert.duration(found.coverage_days),
            compute_time=protos.timestamp(found.computed_at),
        )
