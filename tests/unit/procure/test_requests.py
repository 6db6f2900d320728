"""Requests read into commands name every field they cannot read, not only the first."""

from __future__ import annotations

import pytest
from google.protobuf import duration_pb2
from google.type import money_pb2

from kit import errors
from stockmesh.procure.v1 import procure_pb2 as pb
from svc_procure import convert


def test_an_order_with_a_bad_supplier_and_a_bad_warehouse_names_both() -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        convert.create_order(pb.PurchaseOrder(supplier="vendors/1", warehouse="w1"))
    assert [v.field for v in refused.value.violations] == [
        "purchase_order.supplier",
        "purchase_order.warehouse",
    ]


def test_an_item_with_a_bad_parent_cost_and_lead_time_names_all_three() -> None:
    item = pb.SupplierItem(
        unit_cost=money_pb2.Money(currency_code="EUR", units=1, nanos=-5),
        lead_time=duration_pb2.Duration(seconds=3600),
    )
    with pytest.raises(errors.InvalidArgument) as refused:
        convert.create_item("suppliers", item)
    assert [v.field for v in refused.value.violations] == [
        "parent",
        "supplier_item.unit_cost",
        "supplier_item.lead_time",
    ]


def test_a_proposal_names_its_warehouse_and_each_bad_line() -> None:
    request = pb.CreatePurchaseOrdersFromProposalRequest(
        warehouse="depots/1",
        lines=[pb.ProposalLine(sku="A", supplier_item="x"), pb.ProposalLine(sku="B", supplier_item="y")],
    )
    with pytest.raises(errors.InvalidArgument) as refused:
        convert.create_from_proposal(request)
    assert [v.field for v in refused.value.violations] == [
        "warehouse",
        "lines[0].supplier_item",
        "lines[1].supplier_item",
    ]


def test_a_well_formed_order_reads_into_its_command() -> None:
    cmd = convert.create_order(
        pb.PurchaseOrder(
            supplier="suppliers/s1",
            warehouse="warehouses/w1",
            lines=[pb.PurchaseOrderLine(sku="A", quantity_ordered=3)],
        )
    )
    assert (cmd.supplier_id, cmd.warehouse_id, [(n.sku, n.quantity) for n in cmd.lines]) == (
        "s1",
        "w1",
        [("A", 3)],
    )
