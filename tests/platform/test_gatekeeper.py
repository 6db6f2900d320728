"""The Gatekeeper policy of cluster/platform/policy: its ConstraintTemplates
and constraints have the shape Gatekeeper reads, and their Rego does what it
says on good and bad objects, and on every workload the cluster renders.

No package publishes the ConstraintTemplate CRD's schema (npm and PyPI have
none), so the shape is checked against SCHEMA below, written from Gatekeeper's
templates.gatekeeper.sh/v1 CRD with unknown fields refused. The Rego runs in
regorus (a Rego interpreter, PyPI `gordon-to-regorus`): no OPA build installs
from PyPI or npm for Python 3.11."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import regorus  # type: ignore[import-not-found]  # no type hints published
import yaml

from tests.cluster.manifests import kustomizations, rendered

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "cluster" / "platform" / "policy"
TARGET = "admission.k8s.gatekeeper.sh"
POD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}

_STRINGS = {"type": "array", "items": {"type": "string"}}
# templates.gatekeeper.sh/v1 ConstraintTemplate, as far as these templates use it.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "templates.gatekeeper.sh/v1"},
        "kind": {"const": "ConstraintTemplate"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]+$"}},
        },
        "spec": {
            "type": "object",
            "required": ["crd", "targets"],
            "additionalProperties": False,
            "properties": {
                "crd": {
                    "type": "object",
                    "required": ["spec"],
                    "additionalProperties": False,
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["names"],
                            "additionalProperties": False,
                            "properties": {
                                "names": {
                                    "type": "object",
                                    "required": ["kind"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "kind": {"type": "string", "pattern": "^[A-Z][A-Za-z0-9]*$"},
                                        "shortNames": _STRINGS,
                                    },
                                },
                                "validation": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "openAPIV3Schema": {"type": "object"},
                                        "legacySchema": {"type": "boolean"},
                                    },
                                },
                            },
                        }
                    },
                },
                "targets": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["target", "rego"],
                        "additionalProperties": False,
                        "properties": {
                            "target": {"const": TARGET},
                            "rego": {"type": "string", "minLength": 1},
                            "libs": _STRINGS,
                        },
                    },
                },
            },
        },
    },
}


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((POLICY / name).read_text()) if d]


def templates() -> list[dict[str, Any]]:
    return documents("templates.yaml")


def constraints() -> list[dict[str, Any]]:
    return documents("constraints.yaml")


def template_of(kind: str) -> dict[str, Any]:
    found = [t for t in templates() if t["spec"]["crd"]["spec"]["names"]["kind"] == kind]
    assert len(found) == 1, f"{len(found)} templates make kind {kind}"
    return found[0]


def package(rego: str) -> str:
    match = re.search(r"^package\s+([\w.]+)", rego, re.M)
    assert match, "the Rego has no package"
    return match.group(1)


# --- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", templates(), ids=lambda t: t["metadata"]["name"])
def test_template_has_gatekeepers_shape(template: dict[str, Any]) -> None:
    jsonschema.validate(template, SCHEMA)
    kind = template["spec"]["crd"]["spec"]["names"]["kind"]
    # Gatekeeper refuses a template whose name is not its kind in lower case.
    assert template["metadata"]["name"] == kind.lower()
    rego = template["spec"]["targets"][0]["rego"]
    assert package(rego) == template["metadata"]["name"]
    assert re.search(r"^violation contains \{\"msg\": msg\}", rego, re.M), "no violation rule"
    parameters = template["spec"]["crd"]["spec"].get("validation", {}).get("openAPIV3Schema")
    if parameters is not None:
        jsonschema.Draft7Validator.check_schema(parameters)


def test_template_packages_are_unique() -> None:
    packages = [package(t["spec"]["targets"][0]["rego"]) for t in templates()]
    assert len(packages) == len(set(packages))


@pytest.mark.parametrize("constraint", constraints(), ids=lambda c: c["metadata"]["name"])
def test_constraint_matches_its_template(constraint: dict[str, Any]) -> None:
    assert constraint["apiVersion"] == "constraints.gatekeeper.sh/v1beta1"
    template = template_of(constraint["kind"])
    spec = constraint["spec"]
    assert set(spec) <= {"enforcementAction", "match", "parameters"}, sorted(spec)
    assert spec.get("enforcementAction", "deny") in {"deny", "dryrun", "warn"}
    assert spec["match"]["namespaces"], "a constraint on every namespace would govern the platform's own"
    schema = template["spec"]["crd"]["spec"].get("validation", {}).get("openAPIV3Schema")
    if schema is None:
        assert "parameters" not in spec, "parameters for a template that takes none"
    else:
        jsonschema.validate(spec.get("parameters", {}), {**schema, "additionalProperties": False})


def test_every_template_has_a_constraint() -> None:
    kinds = {t["spec"]["crd"]["spec"]["names"]["kind"] for t in templates()}
    assert kinds == {c["kind"] for c in constraints()}


# --- behaviour -------------------------------------------------------------------------------


def violations(constraint: Mapping[str, Any], obj: Mapping[str, Any]) -> list[str]:
    """The messages the constraint's template gives `obj`, as Gatekeeper asks:
    input.review.object and input.parameters."""
    rego = template_of(constraint["kind"])["spec"]["targets"][0]["rego"]
    engine = regorus.Engine()
    engine.add_policy("template.rego", rego)
    review = {"object": obj, "kind": {"kind": obj["kind"]}, "namespace": obj["metadata"].get("namespace", "")}
    engine.set_input_json(
        json.dumps({"review": review, "parameters": constraint["spec"].get("parameters", {})})
    )
    answer = json.loads(engine.eval_query_as_json(f"data.{package(rego)}.violation"))
    value = answer["result"][0]["expressions"][0]["value"] if answer.get("result") else []
    return sorted(v["msg"] for v in value)


def constraint(kind: str) -> dict[str, Any]:
    return next(c for c in constraints() if c["kind"] == kind)


def container(
    name: str = "app", image: str = "ghcr.io/stockmesh/stockmesh:0.1.0", **security: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "image": image}
    if security:
        found["securityContext"] = security
    return found


def deployment(
    *containers: dict[str, Any], labels: Mapping[str, str] | None = None, **pod_security: Any
) -> dict[str, Any]:
    labels = {"app": "svc-stock", "version": "v1"} if labels is None else dict(labels)
    pod: dict[str, Any] = {"containers": list(containers)}
    if pod_security:
        pod["securityContext"] = pod_security
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "svc-stock", "namespace": "stockmesh", "labels": labels},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": pod}},
    }


def cronjob(*containers: dict[str, Any]) -> dict[str, Any]:
    labels = {"app": "x", "version": "v1"}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "x", "namespace": "stockmesh", "labels": labels},
        "spec": {
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": list(containers)}}
                },
            }
        },
    }


def pod(*containers: dict[str, Any], **pod_security: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": list(containers)}
    if pod_security:
        spec["securityContext"] = pod_security
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "stockmesh"},
        "spec": spec,
    }


def test_allowed_repos() -> None:
    repos = constraint("K8sStockmeshAllowedRepos")
    assert violations(repos, deployment(container())) == []
    assert violations(repos, pod(container(image="docker.io/istio/proxyv2:1.24.2"))) == []
    assert violations(repos, deployment(container(image="docker.io/library/redis:7.4.2-alpine"))) == []
    # Elsewhere, an unqualified name, a look-alike repository, an init container.
    assert violations(repos, deployment(container(image="quay.io/evil/stockmesh:1")))
    assert violations(repos, deployment(container(image="redis:7.4.2")))
    assert violations(repos, deployment(container(image="ghcr.io/stockmesh-fork/stockmesh:1")))
    assert violations(repos, deployment(container(image="docker.io/library/redis-evil:1")))
    bad_init = deployment(container())
    bad_init["spec"]["template"]["spec"]["initContainers"] = [container("init", "busybox:1.36")]
    assert len(violations(repos, bad_init)) == 1
    assert violations(repos, cronjob(container(image="docker.io/alpine:3")))


def test_no_latest() -> None:
    no_latest = constraint("K8sStockmeshNoLatest")
    assert violations(no_latest, deployment(container())) == []
    assert (
        violations(no_latest, deployment(container(image="ghcr.io/stockmesh/stockmesh@sha256:" + "a" * 64)))
        == []
    )
    # A registry's port is not a tag.
    assert violations(no_latest, pod(container(image="registry.local:5000/stockmesh:1.2"))) == []
    assert violations(no_latest, deployment(container(image="ghcr.io/stockmesh/stockmesh:latest")))
    assert violations(no_latest, deployment(container(image="ghcr.io/stockmesh/stockmesh")))
    assert violations(no_latest, pod(container(image="registry.local:5000/stockmesh")))
    assert violations(no_latest, cronjob(container(image="docker.io/curlimages/curl:latest")))


def test_non_root() -> None:
    non_root = constraint("K8sStockmeshNonRoot")
    assert violations(non_root, deployment(container(), runAsNonRoot=True, runAsUser=10001)) == []
    assert violations(non_root, deployment(container(runAsNonRoot=True))) == []
    # Istio's init container is exempt by name; nothing else is.
    assert (
        violations(non_root, pod(container(), container("istio-init", runAsUser=0), runAsNonRoot=True)) == []
    )
    assert violations(non_root, deployment(container()))
    assert violations(non_root, deployment(container(runAsNonRoot=False), runAsNonRoot=True))
    assert violations(non_root, deployment(container(runAsUser=0), runAsNonRoot=True))
    assert violations(non_root, pod(container(), runAsNonRoot=True, runAsUser=0))
    assert violations(non_root, cronjob(container()))


def test_required_labels() -> None:
    labels = constraint("K8sStockmeshRequiredLabels")
    assert violations(labels, deployment(container())) == []
    assert violations(labels, cronjob(container())) == []
    assert len(violations(labels, deployment(container(), labels={"app": "svc-stock"}))) == 2
    unlabelled_template = deployment(container())
    unlabelled_template["spec"]["template"]["metadata"]["labels"] = {"app": "svc-stock"}
    assert violations(labels, unlabelled_template) == [
        "Deployment svc-stock: a template lacks the label version"
    ]
    job_template_unlabelled = cronjob(container())
    del job_template_unlabelled["spec"]["jobTemplate"]["metadata"]
    assert violations(labels, job_template_unlabelled)


# --- the cluster's own objects ---------------------------------------------------------------


@cache
def rendered_workloads() -> list[dict[str, Any]]:
    """Every pod-bearing object of every kustomization under cluster/, rendered once by the
    cluster checks' cached renderer (which fails the test when kubectl is missing)."""
    return [
        dict(d)
        for folder in kustomizations()
        for d in rendered(folder).documents
        if d.get("kind") in POD_KINDS
    ]


def matches(constraint: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    match = constraint["spec"]["match"]
    kinds = {kind for entry in match["kinds"] for kind in entry["kinds"]}
    return obj["kind"] in kinds and obj["metadata"].get("namespace") in match["namespaces"]


@pytest.mark.parametrize("kind", [c["kind"] for c in constraints()])
def test_the_clusters_own_workloads_pass(kind: str) -> None:
    workloads = rendered_workloads()
    assert workloads, "cluster/ renders no workload"
    checked = constraint(kind)
    failures = {
        f"{o['kind']} {o['metadata']['namespace']}/{o['metadata']['name']}": found
        for o in workloads
        if matches(checked, o) and (found := violations(checked, o))
    }
    assert not failures, json.dumps(failures, indent=2)
