#!/usr/bin/env bash
# Keyless cosign signature of a pushed image, by digest (a tag can move, a digest cannot):
# the workflow's OIDC token (id-token: write) gets a short-lived Fulcio certificate naming
# this repository's workflow, and the signature is logged in Rekor.
#   ci/sign_image.sh ghcr.io/stockmesh/stockmesh@sha256:...
set -euo pipefail
ref="${1:?usage: ci/sign_image.sh IMAGE@sha256:DIGEST}"
case "$ref" in
  *@sha256:*) ;;
  *) echo "sign_image: sign by digest, not by tag: $ref" >&2; exit 2 ;;
esac
cosign sign --yes "$ref"
# The SBOM travels inside the same image index (buildx --sbom attestation), so this one
# signature over the digest covers it too.
echo "signed $ref"
