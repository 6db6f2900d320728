#!/usr/bin/env bash
# Wait until Argo CD has applied a GitOps bump in an environment without canaries
# (staging): every Deployment in the namespace runs the image and has rolled out.
#   ci/deploy_wait.sh --namespace stockmesh --image ghcr.io/stockmesh/stockmesh:sha-abc
set -euo pipefail

namespace=stockmesh
image=""
sync_seconds=600
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --sync-seconds) sync_seconds="$2"; shift 2 ;;
    *) echo "deploy_wait: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$image" ] || { echo "deploy_wait: --image is required" >&2; exit 2; }

mapfile -t deployments < <(kubectl get deployments -n "$namespace" -o name)
[ "${#deployments[@]}" -gt 0 ] || { echo "deploy_wait: no Deployment in $namespace" >&2; exit 1; }
deadline=$((SECONDS + sync_seconds))
for deployment in "${deployments[@]}"; do
  # Deployments of other images (e.g. an Envoy edge) are not ours to wait for.
  kubectl get "$deployment" -n "$namespace" -o jsonpath='{.spec.template.spec.containers[*].image}' \
    | grep -q "${image%%:*}" || continue
  until kubectl get "$deployment" -n "$namespace" -o jsonpath='{.spec.template.spec.containers[*].image}' \
      | tr ' ' '\n' | grep -qxF "$image"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "deploy_wait: $deployment does not run $image after ${sync_seconds}s (is Argo CD syncing?)" >&2
      exit 1
    fi
    sleep 10
  done
  kubectl rollout status "$deployment" -n "$namespace" --timeout 10m
done
