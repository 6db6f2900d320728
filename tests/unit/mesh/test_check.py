"""Specifications of `stockmesh mesh check` (kit.mesh.check): the
repository's policy passes, and each kind of defect, made in a copy of
mesh/istio/, is reported naming the file, the resource and the defect.

The defects are checked without Istio's schemas (no Node.js needed) and
compared with the copy's own problems before the change, so each test sees
exactly what its defect adds. The tests that run the schemas need `node` and
the repository's node_modules, as in test_schemas.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import descriptor_pb2

from kit import cli, services
from kit.mesh import files, rpcs
from kit.mesh.check import problems
from tests.harness import ROOT, unavailable

MESH = ROOT / "mesh" / "istio"
STOCK = "services/svc-stock.yaml"
ORDER = "services/svc-order.yaml"
UNAVAILABLE = "the Istio schema check is unavailable"


def checked(directory: Path, **options: Any) -> list[str]:
    """problems() with the schemas, skipped (failed under CI) without Node."""
    found = problems(directory, **options)
    missing = [line for line in found if line.startswith(UNAVAILABLE)]
    if missing:
        unavailable("Node.js with @kubernetes-models/istio", RuntimeError(missing[0]))
    return found


@pytest.fixture
def mesh(tmp_path: Path) -> Path:
    """A copy of the repository's policy, read as mesh/istio/... like the original."""
    copy = tmp_path / "mesh" / "istio"
    shutil.copytree(MESH, copy)
    return copy


def edit(mesh: Path, file: str, kind: str, change: Callable[[dict[str, Any]], object]) -> None:
    """Rewrites the file with its resource of `kind` changed in place."""
    path = mesh / file
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for document in documents:
        if document["kind"] == kind:
            change(document)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


def drop(mesh: Path, file: str, kind: str) -> None:
    """Rewrites the file without its resource of `kind`."""
    path = mesh / file
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None and d["kind"] != kind]
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


def rule_of(policy: dict[str, Any], account: str) -> dict[str, Any]:
    """The rule of an AuthorizationPolicy whose principals name `account`."""
    principal = f"cluster.local/ns/stockmesh/sa/{account}"
    for rule in policy["spec"]["rules"]:
        if any(principal in s["source"]["principals"] for s in rule.get("from", [])):
            return rule  # type: ignore[no-any-return]
    raise AssertionError(f"no rule for {account}")


def route_named(service: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in service["spec"]["http"] if r["name"] == name)


def added(mesh: Path, defect: Callable[[], None], descriptors: Path | None = None) -> list[str]:
    """The problems the defect adds to the copy's own."""
    before = problems(mesh, descriptors=descriptors, schemas=False)
    defect()
    return [line for line in problems(mesh, descriptors=descriptors, schemas=False) if line not in before]


def test_the_repositorys_policy_has_no_problems() -> None:
    assert checked(MESH) == []


def test_a_principal_of_an_unknown_account_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            STOCK,
            "AuthorizationPolicy",
            lambda p: rule_of(p, "svc-order")["from"][0]["source"]["principals"].append(
                "cluster.local/ns/stockmesh/sa/svc-billing"
            ),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-stock.yaml#0 AuthorizationPolicy svc-stock: rules[1]: principal "
        "cluster.local/ns/stockmesh/sa/svc-billing is not the account of a registered service, the "
        "gateway, the edge, dev-client or the ingress gateway"
    ]


def test_a_wildcard_principal_is_refused_as_too_broad(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            STOCK,
            "AuthorizationPolicy",
            lambda p: rule_of(p, "svc-order")["from"][0]["source"].update(principals=["*"]),
        )

    found = added(mesh, defect)

    assert any("rules[1]: principal * is too broad" in line for line in found)


def test_a_rule_open_to_anyone_beyond_health_checks_is_refused(mesh: Path) -> None:
    anyone = {"to": [{"operation": {"paths": ["/stockmesh.stock.v1.StockService/GetStockLevel"]}}]}

    def defect() -> None:
        edit(mesh, STOCK, "AuthorizationPolicy", lambda p: p["spec"]["rules"].append(anyone))

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-stock.yaml#0 AuthorizationPolicy svc-stock: rules[4]: admits any caller "
        "(no from, or a source without principals); only grpc.health.v1.Health/* may be open to anyone"
    ]


def test_a_path_naming_a_method_that_does_not_exist_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            STOCK,
            "AuthorizationPolicy",
            lambda p: rule_of(p, "svc-order")["to"][0]["operation"]["paths"].append(
                "/stockmesh.stock.v1.StockService/DeleteEverything"
            ),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-stock.yaml#0 AuthorizationPolicy svc-stock: rules[1]: path "
        "/stockmesh.stock.v1.StockService/DeleteEverything names no RPC of stockmesh.stock.v1.StockService"
    ]


def test_a_path_of_another_services_method_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            STOCK,
            "AuthorizationPolicy",
            lambda p: rule_of(p, "svc-order")["to"][0]["operation"]["paths"].append(
                "/stockmesh.catalog.v1.CatalogService/BatchGetVariants"
            ),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-stock.yaml#0 AuthorizationPolicy svc-stock: rules[1]: path "
        "/stockmesh.catalog.v1.CatalogService/BatchGetVariants is an RPC of svc-catalog, not of svc-stock"
    ]


def test_a_missing_sidecar_is_reported(mesh: Path) -> None:
    assert added(mesh, lambda: drop(mesh, ORDER, "Sidecar")) == [
        f"{mesh}: service order lacks a Sidecar selecting app: svc-order in namespace stockmesh"
    ]


def test_a_second_sidecar_for_a_workload_is_reported(mesh: Path) -> None:
    sidecar = (mesh / ORDER).read_text().split("---\n")[-1]

    def defect() -> None:
        (mesh / "services" / "svc-order2.yaml").write_text(
            sidecar.replace("name: svc-order", "name: svc-order-too")
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-order2.yaml#0 Sidecar svc-order-too: Sidecar selecting app: "
        "svc-order besides mesh/istio/services/svc-order.yaml#3: only one takes effect"
    ]


def test_a_sidecar_reaching_a_service_its_workload_may_not_call_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            "services/svc-user.yaml",
            "Sidecar",
            lambda s: s["spec"]["egress"][0]["hosts"].append("./svc-x.stockmesh.svc.cluster.local"),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-user.yaml#3 Sidecar svc-user: egress host "
        "./svc-x.stockmesh.svc.cluster.local is not a service svc-user may call (no "
        "AuthorizationPolicy of it names svc-user as a principal)"
    ]


def test_a_sidecar_missing_a_service_its_workload_may_call_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            ORDER,
            "Sidecar",
            lambda s: s["spec"]["egress"][0]["hosts"].remove("./svc-stock.stockmesh.svc.cluster.local"),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-order.yaml#3 Sidecar svc-order: egress lacks "
        "./svc-stock.stockmesh.svc.cluster.local, a service svc-order may call"
    ]


def test_a_streaming_route_with_retries_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            STOCK,
            "VirtualService",
            lambda v: route_named(v, "watchstocklevels").update(
                retries={"attempts": 2, "retryOn": "connect-failure"}
            ),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-stock.yaml#2 VirtualService svc-stock: route watchstocklevels: receives "
        "the streaming WatchStockLevels, so needs retries.attempts 0 and timeout 0s (has attempts 2, "
        "timeout 0s)"
    ]


def without_request_id(tmp_path: Path, message: str) -> Path:
    """The repository's contracts, but `message` without its request_id: a
    write a retry could apply twice."""
    found = descriptor_pb2.FileDescriptorSet.FromString(rpcs.default_path().read_bytes())
    for proto in found.file:
        for candidate in proto.message_type:
            if f"{proto.package}.{candidate.name}" == message:
                kept = [f for f in candidate.field if f.name != "request_id"]
                del candidate.field[:]
                candidate.field.extend(kept)
    path = tmp_path / "descriptors.binpb"
    path.write_bytes(found.SerializeToString())
    return path


def retry_on(conditions: dict[str, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(service: dict[str, Any]) -> dict[str, Any]:
        for route in service["spec"]["http"]:
            route["retries"]["retryOn"] = conditions.get(route["name"], "connect-failure,refused-stream")
        return service

    return change


def test_retrying_on_internal_a_write_without_request_id_is_reported(mesh: Path, tmp_path: Path) -> None:
    descriptors = without_request_id(tmp_path, "stockmesh.order.v1.CreateOrderRequest")
    edit(mesh, ORDER, "VirtualService", retry_on({"default": "internal"}))

    found = problems(mesh, descriptors=descriptors, schemas=False)

    assert [line for line in found if "svc-order" in line] == [
        "mesh/istio/services/svc-order.yaml#2 VirtualService svc-order: route default: retries on internal "
        "(the call may have taken effect) but receives CreateOrder, which may apply twice: no request_id, "
        "no idempotency_level, not a read by name"
    ]


def test_retrying_a_write_without_request_id_only_when_it_never_arrived_is_safe(
    mesh: Path, tmp_path: Path
) -> None:
    descriptors = without_request_id(tmp_path, "stockmesh.order.v1.CreateOrderRequest")
    edit(mesh, ORDER, "VirtualService", retry_on({}))

    assert [
        line for line in problems(mesh, descriptors=descriptors, schemas=False) if "svc-order" in line
    ] == []


def test_retrying_on_internal_is_safe_when_every_rpc_of_the_route_is_idempotent(mesh: Path) -> None:
    # Every write of svc-order carries a request_id; every other RPC reads.
    def defect() -> None:
        edit(mesh, ORDER, "VirtualService", retry_on({"default": "internal,unavailable,reset"}))

    assert added(mesh, defect) == []


def test_a_destination_rule_without_outlier_detection_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            "services/svc-catalog.yaml",
            "DestinationRule",
            lambda d: d["spec"]["trafficPolicy"].pop("outlierDetection"),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-catalog.yaml#1 DestinationRule svc-catalog: "
        "no trafficPolicy.outlierDetection"
    ]


def test_a_split_whose_weights_do_not_sum_to_100_is_reported(mesh: Path) -> None:
    def defect() -> None:
        edit(
            mesh,
            ORDER,
            "VirtualService",
            lambda v: route_named(v, "default")["route"][0].update(weight=90),
        )

    assert added(mesh, defect) == [
        "mesh/istio/services/svc-order.yaml#2 VirtualService svc-order: http[2]: the weights of its "
        "destinations must sum to 100, not [90, 0]"
    ]


def test_a_namespace_without_default_deny_is_reported(mesh: Path) -> None:
    assert added(mesh, lambda: drop(mesh, "namespace.yaml", "AuthorizationPolicy")) == [
        f"{mesh}: namespace stockmesh has no default-deny AuthorizationPolicy (ALLOW with no rules and "
        "no selector)"
    ]


def test_a_schema_violation_is_reported_with_what_the_runtime_cannot_read(mesh: Path) -> None:
    edit(
        mesh,
        "services/svc-catalog.yaml",
        "AuthorizationPolicy",
        lambda p: rule_of(p, "svc-stock")["from"][0]["source"].update(
            principals="cluster.local/ns/stockmesh/sa/svc-stock"
        ),
    )
    where = "mesh/istio/services/svc-catalog.yaml#0 AuthorizationPolicy svc-catalog"

    found = checked(mesh)

    assert f"{where}: spec/rules/1/from/0/source/principals must be array" in found
    assert f"{where}: rules[1].from[0].source.principals: must be a list of strings" in found
    # Who may call svc-catalog is unknown, so no Sidecar is blamed for it.
    assert not any("Sidecar" in line and "svc-catalog" in line for line in found)


def test_without_node_the_schema_check_is_a_problem_not_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)

    found = problems(MESH)

    assert any(line.startswith(f"{UNAVAILABLE}: Node.js (`node`) is not on PATH") for line in found)


def test_a_missing_descriptor_set_is_a_problem(tmp_path: Path) -> None:
    found = problems(MESH, descriptors=tmp_path / "none.binpb", schemas=False)

    assert any("no descriptor set at" in line and "make gen" in line for line in found)


def test_an_unreadable_file_is_the_one_problem(mesh: Path) -> None:
    (mesh / "broken.yaml").write_text("kind: [unclosed\n")

    [found] = problems(mesh, schemas=False)

    assert "broken.yaml: not valid YAML" in found


@pytest.fixture
def sound(mesh: Path) -> Path:
    """The copy with svc-stock's canary route made safe for its stream, so it
    has no problem whatever the repository's state."""

    def no_retries(service: dict[str, Any]) -> dict[str, Any]:
        route_named(service, "canary-tester").update(timeout="0s", retries={"attempts": 0})
        return service

    edit(mesh, STOCK, "VirtualService", no_retries)
    return mesh


def test_the_command_says_ok_with_the_counts(sound: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mesh", "check", "--no-schemas", "--dir", str(sound)]) == 0

    counts = f"{len(files.read(sound))} resources, {len(services.available())} services"
    assert capsys.readouterr().out == f"mesh check: ok ({counts})\n"


def test_the_command_lists_each_problem_and_fails(sound: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drop(sound, ORDER, "Sidecar")

    assert cli.main(["mesh", "check", "--no-schemas", "--dir", str(sound)]) == 1

    assert capsys.readouterr().out.splitlines() == [
        f"{sound}: service order lacks a Sidecar selecting app: svc-order in namespace stockmesh",
        "mesh check: 1 problem",
    ]
