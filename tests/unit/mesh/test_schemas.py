"""Specifications of the check of mesh/istio/ against Istio's published CRD
schemas (kit.mesh.schemas, run by Node.js with @kubernetes-models/istio).

They need `node` and the repository's node_modules (`make test` installs
them): with CI=true a missing one fails the run, elsewhere the test is skipped.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from kit.mesh import schemas
from kit.mesh.files import PolicyError, Resource, read
from kit.mesh.schemas import SchemaCheckUnavailable, schema_errors
from tests.harness import ROOT, unavailable

MESH = ROOT / "mesh" / "istio"


def checked(resources: Sequence[Resource]) -> list[str]:
    try:
        return schema_errors(resources)
    except SchemaCheckUnavailable as exc:
        missing = exc
    # Outside the except block, so a failure under CI does not print the
    # exception it came from a second time.
    unavailable("Node.js with @kubernetes-models/istio", missing)
    raise missing  # not reached: unavailable() has failed or skipped the test


def mesh_in(tmp_path: Path) -> Path:
    """A policy folder at mesh/istio under tmp_path, so sources read as in
    the repository (relative to the folder's grandparent)."""
    return tmp_path / "mesh" / "istio"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_every_resource_in_the_repositorys_mesh_validates_against_istios_schemas() -> None:
    resources = read(MESH)
    kinds = {(resource.api_version, resource.kind) for resource in resources}

    assert checked(resources) == []
    # The check saw the policy itself, not an empty folder.
    assert {
        ("security.istio.io/v1", "AuthorizationPolicy"),
        ("security.istio.io/v1", "PeerAuthentication"),
        ("security.istio.io/v1", "RequestAuthentication"),
        ("networking.istio.io/v1", "DestinationRule"),
        ("networking.istio.io/v1", "VirtualService"),
        ("networking.istio.io/v1", "Sidecar"),
        ("networking.istio.io/v1", "Gateway"),
    } <= kinds


def test_broken_resources_are_reported_with_their_source_and_the_schemas_message(tmp_path: Path) -> None:
    write(
        mesh_in(tmp_path),
        "broken.yaml",
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: svc-stock
        spec:
          action: ALLOW
          rules:
            - from:
                - source:
                    principals: cluster.local/ns/stockmesh/sa/gateway
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: svc-order
        spec:
          hosts:
            - svc-order.stockmesh.svc.cluster.local
          http:
            - route:
                - destination:
                    host: svc-order.stockmesh.svc.cluster.local
              timeout: 10
        ---
        apiVersion: networking.istio.io/v1
        kind: TrafficSplit
        metadata:
          name: svc-user
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata:
          name: default
        spec:
          mtls:
            mode: STRICT
        """,
    )
    source = "mesh/istio/broken.yaml"

    errors = checked(read(mesh_in(tmp_path)))

    assert errors == [
        f"{source}#0 AuthorizationPolicy svc-stock: spec/rules/0/from/0/source/principals must be array",
        f"{source}#1 VirtualService svc-order: spec/http/0/timeout must be string",
        f"{source}#2 TrafficSplit svc-user: unknown apiVersion/kind networking.istio.io/v1 TrafficSplit: "
        "networking.istio.io/v1 offers DestinationRule, Gateway, ServiceEntry, Sidecar, VirtualService, "
        "WorkloadEntry, WorkloadGroup",
    ]


def test_a_value_outside_an_enum_is_reported_with_the_allowed_values() -> None:
    policy = {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "svc-user"},
        "spec": {"action": "PERMIT"},
    }

    assert checked([Resource("policy.yaml#0", policy)]) == [
        "policy.yaml#0 AuthorizationPolicy svc-user: spec/action must be equal to one of the allowed "
        "values (ALLOW, DENY, AUDIT, CUSTOM)"
    ]


@pytest.mark.parametrize(
    ("api_version", "expected"),
    [
        pytest.param(
            "security.istio.io/v2",
            "unknown apiVersion/kind security.istio.io/v2 AuthorizationPolicy: "
            "security.istio.io offers versions v1, v1beta1",
            id="unknown-version",
        ),
        pytest.param(
            "telemetry.istio.io/v1",
            "unknown apiVersion telemetry.istio.io/v1: "
            "expected security.istio.io/<version> or networking.istio.io/<version>",
            id="group-outside-the-mesh-policy",
        ),
        pytest.param(
            "security.istio.io",
            "unknown apiVersion security.istio.io: "
            "expected security.istio.io/<version> or networking.istio.io/<version>",
            id="no-version",
        ),
    ],
)
def test_a_resource_of_an_unknown_api_version_is_reported(api_version: str, expected: str) -> None:
    policy = {"apiVersion": api_version, "kind": "AuthorizationPolicy", "metadata": {"name": "gateway"}}

    assert checked([Resource("gateway.yaml#0", policy)]) == [
        f"gateway.yaml#0 AuthorizationPolicy gateway: {expected}"
    ]


def test_every_version_the_package_offers_is_checked_by_its_own_schema() -> None:
    resources = [
        ("networking.istio.io/v1alpha3", "EnvoyFilter", {"priority": "first"}),
        ("networking.istio.io/v1beta1", "Sidecar", {"egress": "istio-system/*"}),
        ("security.istio.io/v1beta1", "PeerAuthentication", {"mtls": {"mode": "STRICTER"}}),
    ]
    documents = [
        Resource(
            f"old.yaml#{index}", {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": spec}
        )
        for index, (api, kind, spec) in enumerate(resources)
    ]

    assert checked(documents) == [
        "old.yaml#0 EnvoyFilter x: spec/priority must be integer",
        "old.yaml#1 Sidecar x: spec/egress must be array",
        "old.yaml#2 PeerAuthentication x: spec/mtls/mode must be equal to one of the allowed values "
        "(UNSET, DISABLE, PERMISSIVE, STRICT)",
    ]


def test_documents_are_read_recursively_in_order_without_the_kustomization_or_empty_ones(
    tmp_path: Path,
) -> None:
    mesh = mesh_in(tmp_path)
    write(mesh, "kustomization.yaml", "kind: Kustomization\nresources: [b.yaml]\n")
    write(mesh, "b.yaml", "kind: B\n---\n---\nkind: C\n---\n")
    write(mesh, "a/z.yaml", "# only a comment\n")
    write(mesh, "a/y.yaml", "kind: A\n")
    write(mesh, "notes.txt", "kind: NotYaml\n")

    resources = read(mesh)

    assert resources == [
        Resource("mesh/istio/a/y.yaml#0", {"kind": "A"}),
        Resource("mesh/istio/b.yaml#0", {"kind": "B"}),
        Resource("mesh/istio/b.yaml#2", {"kind": "C"}),
    ]


def test_sources_in_the_repository_are_relative_to_its_root() -> None:
    sources = [resource.source for resource in read(MESH)]

    assert "mesh/istio/services/svc-stock.yaml#0" in sources
    assert not any(source.startswith(("/", "mesh/istio/kustomization.yaml")) for source in sources)


def test_a_document_that_is_not_a_resource_is_refused_naming_it(tmp_path: Path) -> None:
    write(mesh_in(tmp_path), "list.yaml", "kind: A\n---\n- not\n- a resource\n")

    with pytest.raises(PolicyError, match=r"list\.yaml#1: a resource must be a mapping"):
        read(mesh_in(tmp_path))


def test_without_the_package_installed_the_check_says_to_install_it(tmp_path: Path) -> None:
    write(tmp_path, "kit/mesh/schemas.mjs", (ROOT / "kit" / "mesh" / "schemas.mjs").read_text())

    with pytest.raises(SchemaCheckUnavailable, match=r"npm install") as info:
        schema_errors([Resource("a.yaml#0", {"kind": "A"})], root=tmp_path)

    assert "make test" in str(info.value)


def test_without_node_the_check_says_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)

    with pytest.raises(SchemaCheckUnavailable, match=r"Node\.js .* not on PATH.*npm install"):
        schemas.schema_errors([Resource("a.yaml#0", {"kind": "A"})])


def test_nothing_to_check_needs_no_node() -> None:
    assert schema_errors([]) == []
