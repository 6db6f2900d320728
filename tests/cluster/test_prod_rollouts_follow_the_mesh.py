"""prod's Rollouts move exactly the mesh's weighted routes: every route of a service's
VirtualService that splits between the subsets v1 and v2 is named in its Rollout (a route
left out would keep sending the canary's share to v1, or the old share to v2), the subsets
named are the DestinationRule's, and each Rollout's analysis template exists."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.cluster.manifests import rendered

PROD = Path("cluster/overlays/prod")


def by_name(kind: str) -> dict[str, Mapping[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(PROD).of_kind(kind)}


def split_routes(virtual_service: Mapping[str, Any]) -> list[str]:
    return [
        route["name"]
        for route in virtual_service["spec"]["http"]
        if {d["destination"].get("subset") for d in route["route"]} == {"v1", "v2"}
    ]


def test_each_rollout_names_every_weighted_route_and_real_subsets() -> None:
    services, rules = by_name("VirtualService"), by_name("DestinationRule")
    problems = []
    for name, rollout in by_name("Rollout").items():
        istio = rollout["spec"]["strategy"]["canary"].get("trafficRouting", {}).get("istio")
        if istio is None:
            continue
        virtual_service = istio["virtualService"]
        expected = split_routes(services[virtual_service["name"]])
        if sorted(virtual_service.get("routes", [])) != sorted(expected):
            problems.append(f"{name}: routes {virtual_service.get('routes')}, the mesh splits {expected}")
        rule = istio["destinationRule"]
        subsets = {s["name"] for s in rules[rule["name"]]["spec"].get("subsets", [])}
        named = {rule["stableSubsetName"], rule["canarySubsetName"]}
        if not named <= subsets:
            problems.append(f"{name}: subsets {sorted(named)}, DestinationRule has {sorted(subsets)}")
    assert not problems, "\n".join(problems)


def test_every_service_rollout_routes_through_the_mesh() -> None:
    # Only the REST edges, which have no subsets in the mesh, may canary by replica count.
    unrouted = [
        name
        for name, rollout in by_name("Rollout").items()
        if "istio" not in rollout["spec"]["strategy"]["canary"].get("trafficRouting", {})
    ]
    assert sorted(unrouted) == ["edge", "gateway"]


def test_each_rollout_is_judged_by_an_existing_analysis() -> None:
    templates = by_name("AnalysisTemplate")
    missing = [
        f"{name}: {ref['templateName']}"
        for name, rollout in by_name("Rollout").items()
        for ref in rollout["spec"]["strategy"]["canary"]["analysis"]["templates"]
        if ref["templateName"] not in templates
    ]
    assert not missing, f"Rollouts naming no AnalysisTemplate: {missing}"


def test_service_analysis_reads_grpc_status_never_http_codes() -> None:
    # gRPC failures travel as HTTP 200: a query on response_code would pass a failing canary.
    query = by_name("AnalysisTemplate")["grpc-server-faults"]["spec"]["metrics"][0]["provider"]["prometheus"]
    assert "grpc_response_status" in query["query"]
    assert "response_code" not in query["query"]
