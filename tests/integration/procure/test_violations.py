"""Bad input names everything wrong with it at once, not only the first thing."""

from __future__ import annotations

import grpc

from clients.catalog import not_in_catalog
from tests import harness
from tests.integration.procure.conftest import Buying


def test_a_line_below_the_minimum_and_off_the_pack_size_names_both(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a, moq=10, pack=4)

    refused = harness.refused(buying.order, supplier, warehouse, [(a, 7)])
    assert (refused.code, refused.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "BELOW_MINIMUM_ORDER_QUANTITY",
    )
    assert [(v.type, v.subject, v.description) for v in refused.precondition_violations] == [
        ("BELOW_MINIMUM_ORDER_QUANTITY", a, "ordered 7, minimum 10"),
        ("NOT_PACK_MULTIPLE", a, "ordered 7, pack size 4"),
    ]


def test_an_unknown_warehouse_an_unknown_sku_and_a_zero_quantity_are_named_together(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    supplier = buying.supplier()
    buying.item(supplier, a)

    refused = harness.refused(buying.order, supplier, "warehouses/nope", [(a, 0), ("NO-SUCH-SKU", 1)])
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.field_violations == {
        "purchase_order.lines[0].quantity_ordered": "at least 1",
        "purchase_order.lines[1].sku": not_in_catalog("NO-SUCH-SKU"),
        "purchase_order.warehouse": "no such warehouse",
    }
