"""Purchase order lines as rows (tables.purchase_order_lines): written with
their order, in its transaction, and summed per SKU for replenishment.

The order's row stays the aggregate; these rows copy its lines, warehouse
and state, so "what is coming of these SKUs into this warehouse" is one
indexed, grouped query per page of SKUs, whatever the number of orders.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BindParameter, Select, bindparam, delete, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.where import one_of
from svc_procure.domain.orders import PurchaseOrder, PurchaseOrderState
from svc_procure.ports import Coming
from svc_procure.store.tables import COMING_STATES, purchase_order_lines

DRAFT = PurchaseOrderState.DRAFT.value

# The states written into the SQL as literals: SQLite matches a partial
# index's predicate only against literals, and PostgreSQL's generic plan of a
# prepared statement cannot prove it from parameters.
_STATES: BindParameter[list[str]] = bindparam(
    "coming_states", list(COMING_STATES), expanding=True, literal_execute=True
)


def _rows(order: PurchaseOrder) -> list[dict[str, object]]:
    return [
        {
            "tenant_id": order.tenant_id,
            "purchase_order_id": order.id,
            "sku": line.sku,
            "warehouse_id": order.warehouse_id,
            "state": order.state.value,
            "quantity_ordered": line.quantity_ordered,
            "quantity_received": line.quantity_received,
        }
        for line in order.lines
    ]


async def write(conn: AsyncConnection, order: PurchaseOrder, *, new: bool) -> None:
    """The order's line rows as the order now is. A save may change lines,
    received quantities, state or (of a draft) warehouse; rewriting the
    order's few rows is simpler than finding which, and is as cheap."""
    c = purchase_order_lines.c
    if not new:
        await conn.execute(
            delete(purchase_order_lines).where(
                c.tenant_id == order.tenant_id, c.purchase_order_id == order.id
            )
        )
    rows = _rows(order)
    if rows:
        await conn.execute(insert(purchase_order_lines), rows)


def coming_query(
    tenant_id: str, warehouse_id: str, skus: Sequence[str], dialect: Dialect
) -> Select[str, str, int]:
    """Per SKU and state, what DRAFT and open orders into the warehouse still
    bring: DRAFT lines as draft, SUBMITTED and PARTIALLY_RECEIVED ones as on
    order; RECEIVED, CANCELLED and CLOSED orders bring nothing more. Served by
    the partial index ix_purchase_order_lines_coming, which holds the lines
    still coming only: however long the warehouse's history, a page reads at
    most the lines coming into it, by SKU."""
    c = purchase_order_lines.c
    return (
        select(c.sku, c.state, func.sum(c.quantity_ordered - c.quantity_received))
        .where(
            c.tenant_id == tenant_id,
            c.warehouse_id == warehouse_id,
            c.state.in_(_STATES),
            one_of(c.sku, skus, dialect),
        )
        .group_by(c.sku, c.state)
    )


async def coming(
    conn: AsyncConnection, tenant_id: str, warehouse_id: str, skus: Sequence[str]
) -> dict[str, Coming]:
    if not skus:
        return {}
    on_order: dict[str, int] = {}
    draft: dict[str, int] = {}
    for sku, state, quantity in await conn.execute(coming_query(tenant_id, warehouse_id, skus, conn.dialect)):
        into = draft if state == DRAFT else on_order
        into[sku] = into.get(sku, 0) + int(quantity)  # PostgreSQL sums bigint as numeric
    return {sku: Coming(on_order.get(sku, 0), draft.get(sku, 0)) for sku in on_order.keys() | draft.keys()}
