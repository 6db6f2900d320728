#!/usr/bin/env bash
# gitleaks over the whole git history (a secret removed later is still leaked), redacted.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"
read -r -a gitleaks <<<"$(binary_or_image gitleaks zricethezav/gitleaks:v8.21.2)"
"${gitleaks[@]}" git --redact --no-banner --exit-code 1 .
