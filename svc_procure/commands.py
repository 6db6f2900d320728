"""What callers ask svc_procure to do: plain values, decoded from protos by the servicer.

Money here is integer nanos; `None` means the field was not given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CreateSupplier:
    display_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    currency_code: str
    default_lead_time_days: int | None
    note: str


@dataclass(frozen=True)
class CreateSupplierItem:
    supplier_id: str
    sku: str
    supplier_sku: str
    currency_code: str
    unit_cost_nanos: int | None
    lead_time_days: int | None
    minimum_order_quantity: int
    pack_size: int
    preferred: bool


@dataclass(frozen=True)
class NewLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CreatePurchaseOrder:
    supplier_id: str
    warehouse_id: str
    lines: tuple[NewLine, ...]
    supplier_reference: str
    note: str


@dataclass(frozen=True)
class Transition:
    """Submit or cancel: the order, the etag read, and the reason kept on cancel."""

    order_id: str
    etag: str
    reason: str = ""


@dataclass(frozen=True)
class ReceivePurchaseOrder:
    order_id: str
    lines: tuple[NewLine, ...]
    delivery_note: str
    note: str
    etag: str


@dataclass(frozen=True)
class ProposeReplenishment:
    warehouse_id: str
    window_days: int
    coverage_days: int
    skus: tuple[str, ...]


@dataclass(frozen=True)
class UpdateSupplier:
    """Fields left None are not changed."""

    supplier_id: str
    etag: str
    display_name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    default_lead_time_days: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class SetArchived:
    """Archive (or unarchive) a supplier, or one of its items when item_id is set."""

    supplier_id: str
    etag: str
    archived: bool
    item_id: str = ""


@dataclass(frozen=True)
class UpdateSupplierItem:
    supplier_id: str
    item_id: str
    etag: str
    paths: tuple[str, ...]
    supplier_sku: str
    currency_code: str
    unit_cost_nanos: int | None
    lead_time_days: int | None
    minimum_order_quantity: int
    pack_size: int
    preferred: bool


@dataclass(frozen=True)
class ListQuery:
    """Paging and filters shared by the list calls; empty strings mean "any"."""

    page_size: int
    page_token: str
    status: str = ""
    query: str = ""
    parent_id: str = ""
    sku: str = ""
    warehouse_id: str = ""
    states: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class UpdatePurchaseOrder:
    order_id: str
    etag: str
    paths: tuple[str, ...]
    warehouse_id: str
    lines: tuple[NewLine, ...]
    expected_delivery_at: datetime | None
    supplier_reference: str
    note: str


@dataclass(frozen=True)
class ProposalLine:
    sku: str
    supplier_id: str
    item_id: str
    quantity: int


@dataclass(frozen=True)
class CreateFromProposal:
    warehouse_id: str
    lines: tuple[ProposalLine, ...]
    note: str
