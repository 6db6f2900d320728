"""Receipts, adjustments, counts, transfers and returns: each a ledger movement
written with its level change, all lines or none."""

from __future__ import annotations

from grpc import StatusCode

from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import new_id
from tests.integration.stock.conftest import World


def ledger(world: World, warehouse: str, sku: str) -> list[pb.Movement]:
    response = world.levels.ListMovements(
        pb.ListMovementsRequest(warehouse=warehouse, sku=sku, page_size=1000),
        metadata=world.as_role(),
        timeout=10,
    )
    return list(response.movements)


def test_a_receipt_raises_on_hand_and_writes_a_movement_naming_who_and_why(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()

    response = world.receive(warehouse, sku, 12)

    (movement,) = response.movements
    assert movement.type == pb.MOVEMENT_TYPE_RECEIPT
    assert (movement.quantity_delta, movement.on_hand_after) == (12, 12)
    assert movement.user.startswith("users/")
    assert movement.caller == "spiffe://stockmesh.test/ns/stockmesh/sa/dev-client"
    assert len(movement.trace_id) == 32
    assert movement.request_id
    assert (world.level(warehouse, sku).on_hand, world.level(warehouse, sku).available) == (12, 12)


def test_a_level_never_touched_reads_as_zeros(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()

    level = world.level(warehouse, sku)

    assert (level.on_hand, level.reserved, level.available, level.low_stock) == (0, 0, 0, False)


def test_an_adjustment_below_what_is_available_is_refused_naming_the_line(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 3)

    refusal = harness.refused(
        world.levels.AdjustStock,
        pb.AdjustStockRequest(
            request_id=new_id(),
            warehouse=warehouse,
            lines=[pb.AdjustmentLine(sku=sku, quantity_delta=-5, reason=pb.ADJUSTMENT_REASON_DAMAGE)],
        ),
        metadata=world.as_role(),
        timeout=10,
    )

    assert (refusal.code, refusal.reason) == (StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    (violation,) = refusal.precondition_violations
    assert violation.subject == f"{warehouse}/stockLevels/{sku}"
    assert violation.description == "requested 5, available 3"
    assert world.level(warehouse, sku).on_hand == 3


def test_a_clerk_adjusts_small_differences_but_not_large_ones(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 100)
    clerk = world.as_role(user_pb2.ROLE_CLERK)

    def adjust(delta: int) -> pb.AdjustStockResponse:
        request = pb.AdjustStockRequest(
            request_id=new_id(),
            warehouse=warehouse,
            lines=[pb.AdjustmentLine(sku=sku, quantity_delta=delta, reason=pb.ADJUSTMENT_REASON_LOSS)],
        )
        response: pb.AdjustStockResponse = world.levels.AdjustStock(request, metadata=clerk, timeout=10)
        return response

    assert adjust(-10).stock_levels[0].on_hand == 90
    refusal = harness.refused(adjust, -11)

    assert (refusal.code, refusal.reason) == (StatusCode.PERMISSION_DENIED, "ADJUSTMENT_ABOVE_CLERK_LIMIT")


def test_a_viewer_cannot_change_stock(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    request = pb.ReceiveStockRequest(
        request_id=new_id(), warehouse=warehouse, lines=[pb.StockLine(sku=sku, quantity=1)]
    )

    refusal = harness.refused(
        world.levels.ReceiveStock, request, metadata=world.as_role(user_pb2.ROLE_VIEWER), timeout=10
    )

    assert refusal.code == StatusCode.PERMISSION_DENIED


def test_a_sku_the_catalog_does_not_know_is_refused_naming_the_line(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    request = pb.ReceiveStockRequest(
        request_id=new_id(),
        warehouse=warehouse,
        lines=[pb.StockLine(sku=sku, quantity=1), pb.StockLine(sku="NOT-IN-CATALOG", quantity=1)],
    )

    refusal = harness.refused(world.levels.ReceiveStock, request, metadata=world.as_role(), timeout=10)

    assert (refusal.code, refusal.reason) == (StatusCode.INVALID_ARGUMENT, "UNKNOWN_SKU")
    assert list(refusal.field_violations) == ["lines[1].sku"]
    assert world.level(warehouse, sku).on_hand == 0


def test_a_cycle_count_books_the_difference_and_a_matching_count_books_zero(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 10)

    def count(quantity: int) -> pb.Movement:
        response = world.levels.RecordCycleCount(
            pb.RecordCycleCountRequest(
                request_id=new_id(),
                warehouse=warehouse,
                lines=[pb.CountLine(sku=sku, counted_quantity=quantity)],
            ),
            metadata=world.as_role(),
            timeout=10,
        )
        return response.movements[0]

    assert count(7).quantity_delta == -3
    assert count(7).quantity_delta == 0
    level = world.level(warehouse, sku)
    assert level.on_hand == 7
    assert level.last_count_time.seconds > 0


def test_a_count_below_the_reserved_quantity_is_refused(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 10)
    world.reserve([(warehouse, sku, 6)])

    refusal = harness.refused(
        world.levels.RecordCycleCount,
        pb.RecordCycleCountRequest(
            request_id=new_id(), warehouse=warehouse, lines=[pb.CountLine(sku=sku, counted_quantity=5)]
        ),
        metadata=world.as_role(),
        timeout=10,
    )

    assert (refusal.code, refusal.reason) == (StatusCode.FAILED_PRECONDITION, "COUNT_BELOW_RESERVED")


def test_a_transfer_moves_stock_with_a_movement_on_each_side(world: World) -> None:
    source, destination, (sku,) = world.warehouse(), world.warehouse(), world.skus()
    world.receive(source, sku, 8)

    response = world.levels.TransferStock(
        pb.TransferStockRequest(
            request_id=new_id(),
            source_warehouse=source,
            destination_warehouse=destination,
            lines=[pb.StockLine(sku=sku, quantity=5)],
        ),
        metadata=world.as_role(),
        timeout=10,
    )

    out, into = response.movements
    assert (out.type, out.quantity_delta, out.counterpart_warehouse) == (
        pb.MOVEMENT_TYPE_TRANSFER_OUT,
        -5,
        destination,
    )
    assert (into.type, into.quantity_delta, into.counterpart_warehouse) == (
        pb.MOVEMENT_TYPE_TRANSFER_IN,
        5,
        source,
    )
    assert (world.level(source, sku).on_hand, world.level(destination, sku).on_hand) == (3, 5)


def test_a_multi_line_change_with_one_short_line_changes_nothing(world: World) -> None:
    source, destination = world.warehouse(), world.warehouse()
    plenty, scarce = world.skus(2)
    world.receive(source, plenty, 10)
    world.receive(source, scarce, 1)

    refusal = harness.refused(
        world.levels.TransferStock,
        pb.TransferStockRequest(
            request_id=new_id(),
            source_warehouse=source,
            destination_warehouse=destination,
            lines=[pb.StockLine(sku=plenty, quantity=4), pb.StockLine(sku=scarce, quantity=2)],
        ),
        metadata=world.as_role(),
        timeout=10,
    )

    assert refusal.reason == "INSUFFICIENT_STOCK"
    assert [v.subject for v in refusal.precondition_violations] == [f"{source}/stockLevels/{scarce}"]
    assert (world.level(source, plenty).on_hand, world.level(destination, plenty).on_hand) == (10, 0)


def test_a_receipt_retried_with_its_request_id_books_once(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    request = pb.ReceiveStockRequest(
        request_id=new_id(), warehouse=warehouse, lines=[pb.StockLine(sku=sku, quantity=4)]
    )

    first = world.levels.ReceiveStock(request, metadata=world.as_role(), timeout=10)
    again = world.levels.ReceiveStock(request, metadata=world.as_role(), timeout=10)

    assert again == first
    assert world.level(warehouse, sku).on_hand == 4
    assert len(ledger(world, warehouse, sku)) == 1


def test_on_hand_always_equals_the_sum_of_the_ledger(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 20)
    world.reserve([(warehouse, sku, 5)])
    world.levels.ReturnStock(
        pb.ReturnStockRequest(
            request_id=new_id(),
            warehouse=warehouse,
            lines=[pb.StockLine(sku=sku, quantity=2)],
            reference="orders/1/returns/1",
        ),
        metadata=world.as_role(),
        timeout=10,
    )

    movements = ledger(world, warehouse, sku)
    level = world.level(warehouse, sku)

    assert level.on_hand == sum(m.quantity_delta for m in movements) == 22
    assert level.reserved == sum(m.reserved_delta for m in movements) == 5
    assert [m.sequence for m in movements] == sorted(m.sequence for m in movements)


def test_another_tenants_warehouse_and_levels_are_not_found(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 5)
    stranger = world.other_tenant()

    found = harness.refused(
        stranger.warehouses.GetWarehouse,
        pb.GetWarehouseRequest(name=warehouse),
        metadata=stranger.as_role(),
        timeout=10,
    )
    level = harness.refused(stranger.level, warehouse, sku)

    assert found.code == StatusCode.NOT_FOUND
    assert level.code == StatusCode.NOT_FOUND


def test_low_stock_lists_levels_at_or_below_their_reorder_point(world: World) -> None:
    warehouse, (low, fine) = world.warehouse(), world.skus(2)
    world.receive(warehouse, low, 3)
    world.receive(warehouse, fine, 50)
    for sku in (low, fine):
        world.set_reorder_policy(warehouse, sku, 5, 20)

    response = world.levels.ListLowStock(
        pb.ListLowStockRequest(parent=warehouse), metadata=world.as_role(), timeout=10
    )

    assert [level.sku for level in response.stock_levels] == [low]
    assert response.stock_levels[0].low_stock


def test_reconcile_finds_no_drift_after_real_work(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 9)
    world.reserve([(warehouse, sku, 4)])

    report = world.levels.ReconcileStockLevels(
        pb.ReconcileStockLevelsRequest(parent=warehouse), metadata=world.as_role(), timeout=10
    )

    assert report.checked_level_count == 1
    assert list(report.drifts) == []
