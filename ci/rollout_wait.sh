#!/usr/bin/env bash
# Watch a prod canary to its end: succeed when every Rollout runs its new image (the
# services' or the edge's) fully promoted, fail when one aborts. Argo Rollouts itself aborts a canary whose
# AnalysisTemplate fails and scales the stable ReplicaSet back up, so this script
# only reports; it never rolls anything back by hand.
#
#   ci/rollout_wait.sh --namespace stockmesh --image ghcr.io/stockmesh/stockmesh:sha-abc@sha256:... \
#     [--image ghcr.io/stockmesh/stockmesh-edge:sha-abc@sha256:...] [--timeout 45m]
#
# Needs kubectl with the argo-rollouts plugin and a kubeconfig for the cluster.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=workload_images.sh
source "$(dirname "$0")/workload_images.sh"

namespace=stockmesh
images=()
timeout=45m
sync_seconds=600  # how long Argo CD may take to apply the GitOps commit

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="$2"; shift 2 ;;
    --image) images+=("$2"); shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --sync-seconds) sync_seconds="$2"; shift 2 ;;
    *) echo "rollout_wait: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "${#images[@]}" -eq 0 ]; then
  echo "rollout_wait: --image is required (the images the GitOps commit deployed)" >&2
  exit 2
fi
if ! kubectl argo rollouts version >/dev/null 2>&1; then
  echo "rollout_wait: the kubectl argo-rollouts plugin is missing" >&2
  exit 2
fi

mapfile -t rollouts < <(kubectl get rollouts.argoproj.io -n "$namespace" -o name)
if [ "${#rollouts[@]}" -eq 0 ]; then
  echo "rollout_wait: no Rollout in namespace $namespace" >&2
  exit 1
fi

# Until Argo CD has applied the commit, `status` would report the old revision as
# healthy: wait for every Rollout's pods to be templated with the new image first (a
# Rollout with a workloadRef runs its Deployment's template).
deadline=$((SECONDS + sync_seconds))
for rollout in "${rollouts[@]}"; do
  image="$(image_for "$namespace" "$rollout" "${images[@]}")"
  if [ -z "$image" ]; then
    echo "rollout_wait: $rollout runs none of ${images[*]}" >&2
    exit 1
  fi
  wait_for_template "$namespace" "$rollout" "$image" "$deadline" rollout_wait
done

failed=0
for rollout in "${rollouts[@]}"; do
  name="${rollout#*/}"
  echo "rollout_wait: watching $name (timeout $timeout)"
  # Exits non-zero when the Rollout is Degraded, i.e. aborted by a failed analysis.
  if ! kubectl argo rollouts status "$name" -n "$namespace" --timeout "$timeout"; then
    echo "rollout_wait: $name did not complete; Argo Rollouts has aborted it and kept the stable version" >&2
    kubectl argo rollouts get rollout "$name" -n "$namespace" || true
    failed=1
  fi
done
exit "$failed"
