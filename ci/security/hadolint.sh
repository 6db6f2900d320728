#!/usr/bin/env bash
# hadolint on both Dockerfiles (the services' and the Envoy edge's); fails on errors (the "high"
# level), warns on the rest.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"
read -r -a hadolint <<<"$(binary_or_image hadolint hadolint/hadolint:v2.12.0-debian)"
# The image has no entrypoint (its command is the binary), so name the binary.
case "${hadolint[0]}" in docker) hadolint+=(hadolint) ;; esac
for dockerfile in Dockerfile gateway/envoy/Dockerfile; do
  echo "hadolint: $dockerfile"
  "${hadolint[@]}" --failure-threshold error - <"$dockerfile"
done
