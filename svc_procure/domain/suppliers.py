"""Suppliers and the items they sell."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

MAX_LEAD_TIME_DAYS = 365


class Status(StrEnum):
    """Of suppliers and supplier items."""

    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Supplier:
    id: str
    tenant_id: str
    display_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    currency_code: str
    default_lead_time_days: int
    note: str
    status: Status
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int


@dataclass(frozen=True)
class SupplierItem:
    id: str
    tenant_id: str
    supplier_id: str
    sku: str
    supplier_sku: str
    unit_cost_nanos: int
    lead_time_days: int | None  # None: the supplier's default
    minimum_order_quantity: int
    pack_size: int
    preferred: bool
    status: Status
    created_at: datetime
    updated_at: datetime
    version: int


def lead_time(item: SupplierItem, supplier: Supplier) -> int:
    """The item's own lead time, else its supplier's default."""
    return item.lead_time_days if item.lead_time_days is not None else supplier.default_lead_time_days


def archived(supplier: Supplier, archive: bool, now: datetime) -> Supplier:
    """The supplier archived (or active again); unchanged if it already is."""
    status = Status.ARCHIVED if archive else Status.ACTIVE
    if supplier.status is status:
        return supplier
    return replace(supplier, status=status, archived_at=now if archive else None, updated_at=now)


def item_archived(item: SupplierItem, archive: bool, now: datetime) -> SupplierItem:
    """The item archived (no longer preferred) or active again; unchanged if it already is."""
    status = Status.ARCHIVED if archive else Status.ACTIVE
    if item.status is status:
        return item
    return replace(item, status=status, preferred=False if archive else item.preferred, updated_at=now)


def matches(query: str, *texts: str) -> bool:
    """Every word of `query` is, case-insensitively, the prefix of a word of `texts`."""
    words = [w for text in texts for w in re.split(r"[\s@.,;:()/+-]+", text.casefold()) if w]
    return all(any(w.startswith(q) for w in words) for q in query.casefold().split())
