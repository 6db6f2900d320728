#!/usr/bin/env bash
# Watch a prod canary to its end: succeed when every Rollout runs the new image
# fully promoted, fail when one aborts. Argo Rollouts itself aborts a canary whose
# AnalysisTemplate fails and scales the stable ReplicaSet back up, so this script
# only reports; it never rolls anything back by hand.
#
#   ci/rollout_wait.sh --namespace stockmesh --image ghcr.io/stockmesh/stockmesh:sha-abc [--timeout 45m]
#
# Needs kubectl with the argo-rollouts plugin and a kubeconfig for the cluster.
set -euo pipefail

namespace=stockmesh
image=""
timeout=45m
sync_seconds=600  # how long Argo CD may take to apply the GitOps commit

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --sync-seconds) sync_seconds="$2"; shift 2 ;;
    *) echo "rollout_wait: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$image" ]; then
  echo "rollout_wait: --image is required (the image the GitOps commit deployed)" >&2
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
# healthy: wait for every Rollout's template to name the new image first.
deadline=$((SECONDS + sync_seconds))
for rollout in "${rollouts[@]}"; do
  until kubectl get "$rollout" -n "$namespace" \
      -o jsonpath='{.spec.template.spec.containers[*].image}' | tr ' ' '\n' | grep -qxF "$image"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "rollout_wait: $rollout does not run $image after ${sync_seconds}s (is Argo CD syncing?)" >&2
      exit 1
    fi
    sleep 10
  done
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
