"""The shared clients of svc_catalog and svc_stock against real gRPC servers on
127.0.0.1 standing in for them: what callers read back, the decisions a client
takes on top of the one error rule, and the one unknown-SKU refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.type import money_pb2
from grpc import aio

from clients.catalog import Lookup, Money, Variant, unknown_skus
from clients.catalog.client import CatalogClient
from clients.stock.client import StockClient
from kit import errors, status
from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from stockmesh.stock.v1 import stock_pb2, stock_pb2_grpc
from tests.support.loopback import serving

SHOE = catalog_pb2.Variant(
    sku="SHOE-42",
    display_name="42",
    product_display_name="Shoe",
    list_price=money_pb2.Money(currency_code="EUR", units=59, nanos=900_000_000),
    status=catalog_pb2.VARIANT_STATUS_ACTIVE,
)
OLD_SHOE = catalog_pb2.Variant(
    sku="SHOE-41",
    display_name="41",
    product_display_name="Shoe",
    list_price=money_pb2.Money(currency_code="EUR", units=49),
    status=catalog_pb2.VARIANT_STATUS_ARCHIVED,
)


async def refuse(context: Any, error: errors.ServiceError) -> None:
    sent = status.to_status(error)
    await context.abort(sent.code, sent.details, sent.trailing_metadata)


class CatalogStandIn(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self) -> None:
        self.refusal: errors.ServiceError | None = None
        self.asked: list[list[str]] = []

    async def BatchGetVariants(
        self, request: catalog_pb2.BatchGetVariantsRequest, context: Any
    ) -> catalog_pb2.BatchGetVariantsResponse:
        self.asked.append(list(request.skus))
        if self.refusal is not None:
            await refuse(context, self.refusal)
        known = {v.sku: v for v in (SHOE, OLD_SHOE)}
        return catalog_pb2.BatchGetVariantsResponse(
            variants=[known[s] for s in request.skus if s in known],
            unknown_skus=[s for s in request.skus if s not in known],
        )


class WarehousesStandIn(stock_pb2_grpc.WarehouseServiceServicer):
    def __init__(self) -> None:
        self.refusal: errors.ServiceError | None = None

    async def GetWarehouse(
        self, request: stock_pb2.GetWarehouseRequest, context: Any
    ) -> stock_pb2.GetWarehouseResponse:
        if self.refusal is not None:
            await refuse(context, self.refusal)
        archived = request.name.endswith("-old")
        state = stock_pb2.WAREHOUSE_STATUS_ARCHIVED if archived else stock_pb2.WAREHOUSE_STATUS_ACTIVE
        return stock_pb2.GetWarehouseResponse(warehouse=stock_pb2.Warehouse(name=request.name, status=state))


@pytest.fixture
async def catalog() -> AsyncIterator[tuple[CatalogStandIn, CatalogClient]]:
    stand_in = CatalogStandIn()  # type: ignore[abstract]  # answers only what clients ask

    def register(server: aio.Server) -> None:
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(stand_in, server)

    async with serving(register) as channels:
        yield stand_in, CatalogClient(channels.get("catalog"))


@pytest.fixture
async def stock() -> AsyncIterator[tuple[WarehousesStandIn, StockClient]]:
    stand_in = WarehousesStandIn()  # type: ignore[abstract]  # answers only what clients ask

    def register(server: aio.Server) -> None:
        stock_pb2_grpc.add_WarehouseServiceServicer_to_server(stand_in, server)

    async with serving(register) as channels:
        yield stand_in, StockClient(channels.get("stock"))


async def test_a_lookup_returns_known_variants_as_lines_show_them_and_names_the_unknown(
    catalog: tuple[CatalogStandIn, CatalogClient],
) -> None:
    stand_in, client = catalog

    found = await client.variants(["SHOE-42", "NOPE", "SHOE-41", "SHOE-42"])

    assert found == Lookup(
        {
            "SHOE-42": Variant("SHOE-42", "Shoe, 42", Money("EUR", 59, 900_000_000), archived=False),
            "SHOE-41": Variant("SHOE-41", "Shoe, 41", Money("EUR", 49, 0), archived=True),
        },
        ("NOPE",),
    )
    assert stand_in.asked == [["SHOE-42", "NOPE", "SHOE-41"]]  # each SKU asked once


async def test_no_skus_ask_the_catalog_nothing(catalog: tuple[CatalogStandIn, CatalogClient]) -> None:
    stand_in, client = catalog

    assert await client.variants([]) == Lookup({}, ())
    assert stand_in.asked == []


async def test_the_catalogs_permission_denied_reaches_the_caller_as_permission_denied(
    catalog: tuple[CatalogStandIn, CatalogClient],
) -> None:
    stand_in, client = catalog
    stand_in.refusal = errors.PermissionDenied(
        "BatchGetVariants needs one of the roles: admin, viewer", reason="ROLE_REQUIRED"
    )

    with pytest.raises(errors.PermissionDenied) as caught:
        await client.variants(["SHOE-42"])

    assert (caught.value.reason, caught.value.message) == (
        "ROLE_REQUIRED",
        "BatchGetVariants needs one of the roles: admin, viewer",
    )


async def test_a_catalog_that_fails_is_catalog_unavailable(
    catalog: tuple[CatalogStandIn, CatalogClient],
) -> None:
    stand_in, client = catalog
    stand_in.refusal = errors.ServiceError("the database is on fire")  # sent as UNKNOWN

    with pytest.raises(errors.Unavailable) as caught:
        await client.variants(["SHOE-42"])

    assert caught.value.reason == "CATALOG_UNAVAILABLE"


@pytest.mark.parametrize(("name", "expected"), [("warehouses/main", True), ("warehouses/main-old", False)])
async def test_a_warehouse_reads_as_active_or_archived(
    stock: tuple[WarehousesStandIn, StockClient], name: str, expected: bool
) -> None:
    _, client = stock

    assert await client.warehouse_active(name.removeprefix("warehouses/")) is expected


@pytest.mark.parametrize(
    "refusal",
    [
        errors.NotFound("warehouse", "warehouses/gone"),
        errors.InvalidArgument([errors.FieldViolation("name", "not a warehouse name")]),
    ],
    ids=["not-found", "malformed"],
)
async def test_a_warehouse_the_tenant_does_not_have_reads_as_none(
    stock: tuple[WarehousesStandIn, StockClient], refusal: errors.ServiceError
) -> None:
    stand_in, client = stock
    stand_in.refusal = refusal

    assert await client.warehouse_active("gone") is None


async def test_any_other_refusal_of_a_warehouse_is_raised_as_it_came(
    stock: tuple[WarehousesStandIn, StockClient],
) -> None:
    stand_in, client = stock
    stand_in.refusal = errors.PermissionDenied("not in this tenant", reason="ROLE_REQUIRED")

    with pytest.raises(errors.PermissionDenied):
        await client.warehouse_active("main")


def test_unknown_skus_are_refused_with_one_reason_and_a_violation_naming_each_sku() -> None:
    refusal = unknown_skus([("lines[1].sku", "NOPE"), ("lines[3].sku", "GONE")])

    assert refusal.reason == "UNKNOWN_SKU"
    assert refusal.violations == (
        errors.FieldViolation("lines[1].sku", "no variant with SKU 'NOPE' in the catalog"),
        errors.FieldViolation("lines[3].sku", "no variant with SKU 'GONE' in the catalog"),
    )
