"""ci/deploy_wait.sh and ci/rollout_wait.sh against a stand-in kubectl that answers from a
cluster state given by each test: each waits for exactly the workloads of the images it was
given (matched by repository, so stockmesh never stands for stockmesh-edge), reads a Rollout's
pods from the Deployment its workloadRef names, and reports an aborted canary as a failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVICES = "ghcr.io/stockmesh/stockmesh"
EDGE = "ghcr.io/stockmesh/stockmesh-edge"
NEW, OLD = ":sha-new@sha256:" + "a" * 64, ":sha-old@sha256:" + "b" * 64

# Answers the few kubectl calls the scripts make, from $FAKE_CLUSTER (JSON), and logs each
# call to $FAKE_LOG.
KUBECTL = r"""
import json, os, sys
args = sys.argv[1:]
state = json.load(open(os.environ["FAKE_CLUSTER"]))
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
def option(name):
    return args[args.index(name) + 1] if name in args else None
def workload(ref):
    kind, name = ref.split("/")
    return ("rollouts" if kind.lower().startswith("rollout") else "deployments"), name
if args[:3] == ["argo", "rollouts", "version"]:
    sys.exit(0)
if args[:3] == ["argo", "rollouts", "status"]:
    sys.exit(0 if state["rollouts"][args[3]].get("status", "Healthy") == "Healthy" else 1)
if args[:3] == ["argo", "rollouts", "get"]:
    sys.exit(0)
if args[:2] == ["rollout", "status"]:
    sys.exit(0)
if args[0] == "get" and option("-o") == "name":
    kinds = "rollouts" if args[1].startswith("rollouts") else "deployments"
    prefix = "rollout.argoproj.io" if kinds == "rollouts" else "deployment.apps"
    print("\n".join(f"{prefix}/{name}" for name in state.get(kinds, {})))
    sys.exit(0)
if args[0] == "get":
    kinds, name = workload(args[1])
    found = state[kinds][name]
    path = option("-o").removeprefix("jsonpath=")
    if "workloadRef" in path:
        print(found.get("workloadRef", "/"), end="")
    else:
        print(" ".join(found.get("images", [])), end="")
    sys.exit(0)
sys.exit(f"fake kubectl: unexpected {args}")
"""


def run(
    script: str, tmp_path: Path, cluster: dict[str, Any], *args: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f"#!{sys.executable}\n{KUBECTL}")
    kubectl.chmod(0o755)
    (tmp_path / "cluster.json").write_text(json.dumps(cluster))
    log = tmp_path / "kubectl.log"
    log.write_text("")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_CLUSTER": str(tmp_path / "cluster.json"),
        "FAKE_LOG": str(log),
    }
    done = subprocess.run(
        ["bash", str(ROOT / "ci" / script), "--namespace", "stockmesh", "--sync-seconds", "0", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return done, log.read_text()


def deployments(services: str, edge: str) -> dict[str, Any]:
    found: dict[str, Any] = {name: {"images": [SERVICES + services]} for name in ("svc-stock", "gateway")}
    found["edge"] = {"images": [EDGE + edge]}
    return found


def test_staging_waits_for_each_image_on_its_own_workloads(tmp_path: Path) -> None:
    cluster = {"deployments": {**deployments(NEW, NEW), "other": {"images": ["docker.io/library/redis:7"]}}}
    done, calls = run("deploy_wait.sh", tmp_path, cluster, "--image", SERVICES + NEW, "--image", EDGE + NEW)

    assert done.returncode == 0, done.stderr
    waited = sorted(line.split()[2] for line in calls.splitlines() if line.startswith("rollout status"))
    assert waited == ["deployment.apps/edge", "deployment.apps/gateway", "deployment.apps/svc-stock"]


def test_the_services_image_does_not_stand_for_the_edges(tmp_path: Path) -> None:
    # Only the services' image was given: the edge, on another repository, is not waited for.
    done, calls = run(
        "deploy_wait.sh", tmp_path, {"deployments": deployments(NEW, OLD)}, "--image", SERVICES + NEW
    )

    assert done.returncode == 0, done.stderr
    assert "rollout status deployment.apps/edge" not in calls


def test_staging_fails_when_a_workload_never_gets_its_new_image(tmp_path: Path) -> None:
    cluster = {"deployments": deployments(NEW, OLD)}
    done, _ = run("deploy_wait.sh", tmp_path, cluster, "--image", SERVICES + NEW, "--image", EDGE + NEW)

    assert done.returncode == 1
    assert f"deployment.apps/edge does not run {EDGE + NEW}" in done.stderr


def rollouts(**status: str) -> dict[str, Any]:
    return {
        name: {"workloadRef": f"Deployment/{name}", "status": status.get(name.replace("-", "_"), "Healthy")}
        for name in ("svc-stock", "gateway", "edge")
    }


def test_prod_reads_a_rollouts_pods_from_its_workload_ref(tmp_path: Path) -> None:
    cluster = {"deployments": deployments(NEW, NEW), "rollouts": rollouts()}
    done, calls = run("rollout_wait.sh", tmp_path, cluster, "--image", SERVICES + NEW, "--image", EDGE + NEW)

    assert done.returncode == 0, done.stderr
    watched = sorted(
        line.split()[3] for line in calls.splitlines() if line.startswith("argo rollouts status")
    )
    assert watched == ["edge", "gateway", "svc-stock"]


def test_prod_fails_while_a_rollout_runs_the_previous_image(tmp_path: Path) -> None:
    cluster = {"deployments": deployments(NEW, OLD), "rollouts": rollouts()}
    done, _ = run("rollout_wait.sh", tmp_path, cluster, "--image", SERVICES + NEW, "--image", EDGE + NEW)

    assert done.returncode == 1
    assert f"rollout.argoproj.io/edge does not run {EDGE + NEW}" in done.stderr


def test_prod_reports_an_aborted_canary(tmp_path: Path) -> None:
    cluster = {"deployments": deployments(NEW, NEW), "rollouts": rollouts(svc_stock="Degraded")}
    done, _ = run("rollout_wait.sh", tmp_path, cluster, "--image", SERVICES + NEW, "--image", EDGE + NEW)

    assert done.returncode == 1
    assert "svc-stock did not complete; Argo Rollouts has aborted it" in done.stderr
