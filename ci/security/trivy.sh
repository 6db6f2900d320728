#!/usr/bin/env bash
# The image scan a developer runs locally (CI uses aquasecurity/trivy-action, same settings):
#   ci/security/trivy.sh ghcr.io/stockmesh/stockmesh:dev
# Fails on HIGH or CRITICAL vulnerabilities that have a fix.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
image="${1:?usage: ci/security/trivy.sh IMAGE}"
if command -v trivy >/dev/null 2>&1; then
  trivy image --severity HIGH,CRITICAL --ignore-unfixed --exit-code 1 "$image"
else
  # The local Docker daemon holds the image just built, so the scanner needs its socket.
  docker run --rm -v /var/run/docker.sock:/var/run/docker.sock aquasec/trivy:0.58.1 \
    image --severity HIGH,CRITICAL --ignore-unfixed --exit-code 1 "$image"
fi
