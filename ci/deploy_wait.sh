#!/usr/bin/env bash
# Wait until Argo CD has applied a GitOps bump in an environment without canaries
# (staging): every Deployment that runs one of the images' repositories runs that image
# and has rolled out.
#   ci/deploy_wait.sh --namespace stockmesh \
#     --image ghcr.io/stockmesh/stockmesh:sha-abc@sha256:... \
#     [--image ghcr.io/stockmesh/stockmesh-edge:sha-abc@sha256:...]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=workload_images.sh
source "$(dirname "$0")/workload_images.sh"

namespace=stockmesh
images=()
sync_seconds=600
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="$2"; shift 2 ;;
    --image) images+=("$2"); shift 2 ;;
    --sync-seconds) sync_seconds="$2"; shift 2 ;;
    *) echo "deploy_wait: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "${#images[@]}" -gt 0 ] || { echo "deploy_wait: --image is required" >&2; exit 2; }

mapfile -t deployments < <(kubectl get deployments -n "$namespace" -o name)
[ "${#deployments[@]}" -gt 0 ] || { echo "deploy_wait: no Deployment in $namespace" >&2; exit 1; }
deadline=$((SECONDS + sync_seconds))
waited=0
for deployment in "${deployments[@]}"; do
  image="$(image_for "$namespace" "$deployment" "${images[@]}")"
  # Deployments of other images are not ours to wait for.
  [ -n "$image" ] || continue
  wait_for_template "$namespace" "$deployment" "$image" "$deadline" deploy_wait
  kubectl rollout status "$deployment" -n "$namespace" --timeout 10m
  waited=$((waited + 1))
done
[ "$waited" -gt 0 ] || { echo "deploy_wait: no Deployment in $namespace runs ${images[*]}" >&2; exit 1; }
