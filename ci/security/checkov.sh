#!/usr/bin/env bash
# checkov over the infrastructure code, the workflows and both Dockerfiles. Without a
# Prisma key checkov knows no severities, so every failed check fails; a check that does
# not apply is skipped inline (#checkov:skip=CKV_...:reason) next to what it concerns.
# --skip-download: the built-in checks only, no call home, the same result offline.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"
checkov="$(tool checkov)"
"$checkov" --quiet --compact --skip-download --directory infra/terraform --framework terraform
# github_actions finds .github/workflows by its path, so it scans from the root.
"$checkov" --quiet --compact --skip-download --directory . --framework github_actions
"$checkov" --quiet --compact --skip-download --framework dockerfile \
  --file Dockerfile --file gateway/envoy/Dockerfile
