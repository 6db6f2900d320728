"""The ledger read back: filtered and paged movements, and recent demand."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from stockmesh.stock.v1 import stock_pb2 as pb
from tests.conftest import new_id
from tests.integration.stock.conftest import World


def ship(world: World, warehouse: str, sku: str, quantity: int) -> None:
    name = world.reserve([(warehouse, sku, quantity)]).reservation.name
    world.reservations.CommitReservation(
        pb.CommitReservationRequest(request_id=new_id(), name=name), metadata=world.as_role(), timeout=10
    )


def test_demand_sums_shipments_and_returns_in_the_window(world: World) -> None:
    warehouse, (sku, idle) = world.warehouse(), world.skus(2)
    start = timestamp_pb2.Timestamp()
    start.GetCurrentTime()
    world.receive(warehouse, sku, 10)
    ship(world, warehouse, sku, 3)
    ship(world, warehouse, sku, 2)
    world.levels.ReturnStock(
        pb.ReturnStockRequest(
            request_id=new_id(),
            warehouse=warehouse,
            lines=[pb.StockLine(sku=sku, quantity=1)],
            reference="orders/7/returns/1",
        ),
        metadata=world.as_role(),
        timeout=10,
    )

    summary = world.levels.SummarizeDemand(
        pb.SummarizeDemandRequest(warehouse=warehouse, start_time=start, skus=[sku, idle]),
        metadata=world.as_role(),
        timeout=10,
    )

    by_sku = {s.sku: s for s in summary.summaries}
    busy, quiet = by_sku[sku], by_sku[idle]
    assert [s.sku for s in summary.summaries] == sorted(by_sku)
    assert (busy.sku, busy.shipped_quantity, busy.returned_quantity, busy.shipment_count) == (sku, 5, 1, 2)
    assert busy.first_shipment_time.seconds <= busy.last_shipment_time.seconds
    assert (quiet.sku, quiet.shipped_quantity, quiet.shipment_count) == (idle, 0, 0)


def test_movements_filter_by_type_and_page_newest_first(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    for quantity in (1, 2, 3):
        world.receive(warehouse, sku, quantity)
    ship(world, warehouse, sku, 4)

    def page(token: str) -> pb.ListMovementsResponse:
        request = pb.ListMovementsRequest(
            sku=sku, types=[pb.MOVEMENT_TYPE_RECEIPT], newest_first=True, page_size=2, page_token=token
        )
        response: pb.ListMovementsResponse = world.levels.ListMovements(
            request, metadata=world.as_role(), timeout=10
        )
        return response

    first = page("")
    second = page(first.next_page_token)

    assert [m.quantity_delta for m in first.movements] == [3, 2]
    assert [m.quantity_delta for m in second.movements] == [1]
    assert second.next_page_token == ""
