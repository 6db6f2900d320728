"""What every use case that writes purchase order lines checks of them: their
shape, the catalog's SKUs, the warehouse in svc_stock, and the supplier's terms.
Each check adds to the caller's `Violations`, so a request names all it got wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clients.catalog import Catalog, add_unknown_skus
from kit.errors import FailedPrecondition, Violations
from svc_procure.domain.orders import check_lines, terms_of
from svc_procure.domain.suppliers import SupplierItem
from svc_procure.ports import ProcureUnit
from svc_procure.stock import StockLedger

MAX_LINES = 500


class Requested(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


def check_shape(
    lines: Sequence[Requested],
    prefix: str,
    field: str,
    violations: Violations,
    *,
    most: int = MAX_LINES,
    required: bool = False,
) -> None:
    """Each line a SKU, once, and a quantity of at least 1; at most `most` lines."""
    if required and not lines:
        violations.add(prefix, f"1 to {most} lines")
    elif len(lines) > most:
        violations.add(prefix, f"at most {most} lines")
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if not line.sku:
            violations.add(f"{prefix}[{i}].sku", "required")
        elif line.sku in seen:
            violations.add(f"{prefix}[{i}].sku", "a SKU may appear on one line only")
        seen.add(line.sku)
        if line.quantity < 1:
            violations.add(f"{prefix}[{i}].{field}", "at least 1")


async def check_skus(
    catalog: Catalog, lines: Sequence[Requested], prefix: str, violations: Violations
) -> None:
    """SKUs the catalog does not know, naming each line. Too many lines are
    refused already: the catalog is not asked about them."""
    skus = [line.sku for line in lines if line.sku]
    if not skus or len(lines) > MAX_LINES:
        return
    unknown = set((await catalog.variants(skus)).unknown)
    add_unknown_skus(
        violations, ((f"{prefix}[{i}].sku", line.sku) for i, line in enumerate(lines) if line.sku in unknown)
    )


async def check_warehouse(stock: StockLedger, warehouse_id: str, field: str, violations: Violations) -> bool:
    """Whether the warehouse is active; one the tenant does not have is a violation."""
    active = await stock.warehouse_active(warehouse_id)
    if active is None:
        violations.add(field, "no such warehouse")
    return bool(active)


def refuse_archived_warehouse(active: bool) -> None:
    if not active:
        raise FailedPrecondition("the warehouse is archived", reason="WAREHOUSE_ARCHIVED")


def more(violations: Violations) -> Violations:
    """A copy to add to inside a unit of work, which may run more than once."""
    return Violations(list(violations.items))


async def priced_items(
    uow: ProcureUnit, tenant_id: str, supplier_id: str, lines: Sequence[tuple[str, int]]
) -> dict[str, SupplierItem]:
    """The supplier's active items of the lines' SKUs, once every line rule holds."""
    items = await uow.items.active(tenant_id, [sku for sku, _ in lines], supplier_id)
    check_lines(lines, terms_of(items))
    return {i.sku: i for i in items}
