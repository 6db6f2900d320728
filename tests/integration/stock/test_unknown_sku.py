"""A stock level is read only for a SKU the catalog knows: an unknown SKU is
NOT_FOUND, a known SKU the warehouse never held reads as zeros."""

from __future__ import annotations

from grpc import StatusCode

from stockmesh.stock.v1 import stock_pb2 as pb
from tests import harness
from tests.integration.stock.conftest import World


def test_a_sku_the_catalog_does_not_know_is_not_found_and_a_known_one_never_held_reads_as_zeros(
    world: World,
) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()

    unknown = harness.refused(
        world.levels.GetStockLevel,
        pb.GetStockLevelRequest(name=f"{warehouse}/stockLevels/NOT-IN-CATALOG"),
        metadata=world.as_role(),
        timeout=10,
    )
    never_held = world.level(warehouse, sku)

    assert (unknown.code, unknown.reason) == (StatusCode.NOT_FOUND, "NOT_FOUND")
    assert unknown.metadata["name"] == f"{warehouse}/stockLevels/NOT-IN-CATALOG"
    assert (never_held.on_hand, never_held.reserved, never_held.available) == (0, 0, 0)
