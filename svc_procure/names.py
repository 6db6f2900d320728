"""Resource names and etags of svc_procure's resources (AIP-122)."""

from __future__ import annotations

from kit import etag
from svc_procure.domain.orders import PurchaseOrder
from svc_procure.domain.suppliers import Supplier, SupplierItem


def supplier_name(supplier_id: str) -> str:
    return f"suppliers/{supplier_id}"


def item_name(supplier_id: str, item_id: str) -> str:
    return f"suppliers/{supplier_id}/items/{item_id}"


def order_name(order_id: str) -> str:
    return f"purchaseOrders/{order_id}"


def receipt_name(order_id: str, receipt_id: str) -> str:
    return f"purchaseOrders/{order_id}/receipts/{receipt_id}"


def supplier_etag(s: Supplier) -> str:
    return etag.etag(supplier_name(s.id), s.version)


def item_etag(i: SupplierItem) -> str:
    return etag.etag(item_name(i.supplier_id, i.id), i.version)


def order_etag(o: PurchaseOrder) -> str:
    return etag.etag(order_name(o.id), o.version)
