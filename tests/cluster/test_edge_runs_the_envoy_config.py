"""The cluster's REST API is the Envoy edge of gateway/envoy/: in every overlay the edge pods run
the image built from gateway/envoy/Dockerfile with the configuration the contract tests load,
on the port Envoy listens on, probed on the route Envoy answers itself; Envoy's upstreams are the
services' own Services and ports; the ingress sends the API host to it; and it scales out
before its per-replica rate limit refuses callers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.manifests import ROOT, Rendering, dockerfile_instructions, ids, rendered, workloads

ENVOY = ROOT / "gateway" / "envoy"
OVERLAYS = [Path("cluster/overlays") / name for name in ("dev", "staging", "prod")]
IMAGE = "ghcr.io/stockmesh/stockmesh-edge"
API_HOST = "api.stockmesh.example.com"
each_overlay = pytest.mark.parametrize("overlay", OVERLAYS, ids=ids)


def envoy_config() -> Any:
    return yaml.safe_load((ENVOY / "envoy.yaml").read_text())


def walk(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every mapping in a YAML tree."""
    if isinstance(value, Mapping):
        yield value
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def image_layout() -> tuple[str, list[str], list[str]]:
    """Where the edge Dockerfile copies its files, which files, and its command."""
    steps = dockerfile_instructions(ENVOY / "Dockerfile")
    (copy,) = [args.split() for word, args in steps if word == "COPY"]
    sources = [a for a in copy[:-1] if not a.startswith("--")]
    (command,) = [yaml.safe_load(args) for word, args in steps if word == "CMD"]
    return copy[-1], sources, command


def edge_container(rendering: Rendering) -> Mapping[str, Any]:
    (edge,) = [w for w in workloads(rendering) if w.name == "edge"]
    (container,) = edge.containers
    return container


def test_the_image_holds_exactly_the_config_and_the_descriptor_set_the_config_reads() -> None:
    target, sources, command = image_layout()
    config = envoy_config()
    descriptor_paths = {m["proto_descriptor"] for m in walk(config) if "proto_descriptor" in m}

    assert sorted(sources) == ["envoy.yaml", "stockmesh.binpb"]
    assert descriptor_paths == {f"{target}stockmesh.binpb"}
    assert command == ["--config-path", f"{target}envoy.yaml"]


@each_overlay
def test_the_edge_pods_run_the_edge_image_with_that_config(overlay: Path) -> None:
    container = edge_container(rendered(overlay))
    target, _, _ = image_layout()
    args = list(container.get("args") or [])

    assert str(container["image"]).split(":")[0].split("@")[0] == IMAGE
    assert "command" not in container, "the image's entrypoint is envoy"
    assert args[args.index("--config-path") + 1] == f"{target}envoy.yaml"


@each_overlay
def test_the_edge_serves_and_is_probed_where_envoy_listens(overlay: Path) -> None:
    rendering = rendered(overlay)
    container = edge_container(rendering)
    config = envoy_config()
    (listener,) = config["static_resources"]["listeners"]
    listening = listener["address"]["socket_address"]["port_value"]
    answered_by_envoy = {
        r["match"]["path"] for r in walk(config) if "direct_response" in r and "path" in r.get("match", {})
    }
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    (service,) = [s for s in rendering.of_kind("Service") if s["metadata"]["name"] == "edge"]

    assert ports == {"http": listening}
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in answered_by_envoy, probe


@each_overlay
def test_envoys_upstreams_are_the_services_ports_in_the_cluster(overlay: Path) -> None:
    rendering = rendered(overlay)
    served = {
        (f"{s['metadata']['name']}.{s['metadata']['namespace']}.svc.cluster.local", p["port"])
        for s in rendering.of_kind("Service")
        for p in s["spec"]["ports"]
        if p["name"] == "grpc"
    }
    upstreams = {
        (a["address"], a["port_value"])
        for cluster in envoy_config()["static_resources"]["clusters"]
        for a in walk(cluster)
        if "port_value" in a and a["address"] != "127.0.0.1"
    }

    assert upstreams, "envoy.yaml names no upstream"
    assert upstreams == served


@each_overlay
def test_the_ingress_sends_the_api_host_to_the_edge(overlay: Path) -> None:
    rendering = rendered(overlay)
    routes = [
        d
        for vs in rendering.of_kind("VirtualService")
        if API_HOST in vs["spec"].get("hosts", [])
        for route in vs["spec"]["http"]
        for d in route["route"]
    ]
    (gateway,) = [g for g in rendering.of_kind("Gateway") if g["metadata"]["name"] == "stockmesh-ingress"]
    ingress_hosts = {h for server in gateway["spec"]["servers"] for h in server["hosts"]}

    assert API_HOST in ingress_hosts
    assert [r["destination"]["host"] for r in routes] == ["edge.stockmesh.svc.cluster.local"]
    assert [r["destination"]["port"]["number"] for r in routes] == [8080]


@each_overlay
def test_the_edge_scales_out_before_its_per_replica_rate_limit_refuses(overlay: Path) -> None:
    # Envoy's bucket is per replica: an HPA aiming above it would leave callers with 429s
    # that another replica would have served.
    (bucket,) = [m["token_bucket"] for m in walk(envoy_config()) if "token_bucket" in m]
    per_second = bucket["tokens_per_fill"] / float(str(bucket["fill_interval"]).removesuffix("s"))
    (hpa,) = [
        h for h in rendered(overlay).of_kind("HorizontalPodAutoscaler") if h["metadata"]["name"] == "edge"
    ]
    (rate,) = [m["pods"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]

    assert rate["metric"]["name"] == "http_requests_per_second"
    assert float(rate["target"]["averageValue"]) < per_second
