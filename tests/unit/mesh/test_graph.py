"""Specifications of `stockmesh mesh graph` (kit.mesh.graph): who may call
what, as the AuthorizationPolicies decide it, and the picture of it in
docs/mesh.md, which must be the command's current output."""

from __future__ import annotations

import pytest

from kit import cli
from kit.mesh import graph
from kit.mesh.graph import Edge
from tests.harness import ROOT

MESH = ROOT / "mesh" / "istio"
DOC = ROOT / "docs" / "mesh.md"
SERVICES = ("svc-user", "svc-catalog", "svc-stock", "svc-procure", "svc-order")
EVERY_RPC = {
    "svc-user": ("all RPCs of AuthService", "all RPCs of TenantService", "all RPCs of UserService"),
    "svc-catalog": ("all RPCs of CatalogService",),
    "svc-stock": (
        "all RPCs of ReservationService",
        "all RPCs of StockService",
        "all RPCs of WarehouseService",
    ),
    "svc-procure": (
        "all RPCs of PurchaseOrderService",
        "all RPCs of ReplenishmentService",
        "all RPCs of SupplierService",
    ),
    "svc-order": ("all RPCs of OrderService",),
}


def test_the_edges_of_the_repositorys_policy_are_exactly_the_intended_calls() -> None:
    edges = graph.edges(MESH)

    edge = {
        Edge(caller, callee, EVERY_RPC[callee])
        for caller in ("gateway", "edge", "dev-client")
        for callee in SERVICES
    }
    reservations = ("CommitReservation", "CreateReservation", "ExtendReservation", "ReleaseReservation")
    between_services = {
        Edge(
            "svc-order",
            "svc-stock",
            (
                *(f"ReservationService/{m}" for m in reservations),
                "StockService/ReturnStock",
                "WarehouseService/GetWarehouse",
            ),
        ),
        Edge(
            "svc-procure",
            "svc-stock",
            (
                "StockService/ListLowStock",
                "StockService/ListStockLevels",
                "StockService/ReceiveStock",
                "StockService/SummarizeDemand",
                "WarehouseService/GetWarehouse",
            ),
        ),
        *(
            Edge(caller, "svc-catalog", ("CatalogService/BatchGetVariants",))
            for caller in ("svc-stock", "svc-procure", "svc-order")
        ),
        *(
            Edge(caller, "svc-user", ("AuthService/GetJwks",))
            for caller in ("svc-catalog", "svc-stock", "svc-procure", "svc-order")
        ),
    }
    assert set(edges) == edge | between_services
    assert len(edges) == len(set(edges))


def test_the_mermaid_picture_has_one_labelled_arrow_per_edge() -> None:
    edges = graph.edges(MESH)

    picture = graph.mermaid(edges)

    arrows = [line for line in picture.splitlines() if "-->" in line]
    assert picture.startswith("flowchart LR\n")
    assert len(arrows) == len(edges)
    for edge in edges:
        caller, callee = edge.caller.replace("-", "_"), edge.callee.replace("-", "_")
        assert any(a.strip().startswith(f"{caller} -->|") and a.endswith(f"| {callee}") for a in arrows)
    assert "  gateway -->|all| svc_stock" in arrows
    assert (
        "  svc_order -->|CommitReservation, CreateReservation, ExtendReservation, GetWarehouse +2| svc_stock"
        in (arrows)
    )
    assert "  svc_stock -->|BatchGetVariants| svc_catalog" in arrows


def test_a_label_lists_at_most_four_methods_then_how_many_more() -> None:
    five = Edge("a", "b", tuple(f"S/M{i}" for i in range(5)))
    six = Edge("a", "b", tuple(f"S/M{i}" for i in range(6)))
    mixed = Edge("a", "b", ("S/Get", "all RPCs of T"))

    assert "|M0, M1, M2, M3, M4|" in graph.mermaid([five])
    assert "|M0, M1, M2, M3 +2|" in graph.mermaid([six])
    assert "|Get, all T|" in graph.mermaid([mixed])


def test_the_table_names_caller_callee_and_methods() -> None:
    lines = graph.table(graph.edges(MESH)).splitlines()

    assert lines[0].split(" | ") == ["caller     ", "callee     ", "methods"]
    assert (
        "svc-order   | svc-stock   | CommitReservation, CreateReservation, ExtendReservation, " in lines[-1]
    )
    assert any(
        line.startswith("gateway     | svc-stock   | all RPCs of ReservationService, StockService")
        for line in lines
    )


@pytest.mark.parametrize("form", ["table", "mermaid"])
def test_the_command_prints_the_graph(form: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mesh", "graph", "--dir", str(MESH), "--format", form]) == 0

    rendered = {"table": graph.table, "mermaid": graph.mermaid}[form](graph.edges(MESH))
    assert capsys.readouterr().out == rendered


def test_docs_mesh_md_shows_the_current_graph() -> None:
    """Regenerate with `stockmesh mesh graph --format mermaid` (and the
    default table) when the policy changes."""
    doc = DOC.read_text()
    edges = graph.edges(MESH)

    assert f"```mermaid\n{graph.mermaid(edges)}```\n" in doc
    assert f"\n{graph.table(edges)}" in doc
