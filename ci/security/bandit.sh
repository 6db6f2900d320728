#!/usr/bin/env bash
# bandit over the code that ships (not tests, generated stubs or migrations); fails on
# high-severity findings only, since lower ones are ruff's S rules' business already.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"
bandit="$(tool bandit)"
mapfile -t targets < <(ls -d kit clients gateway tools svc_* 2>/dev/null)
"$bandit" --recursive --quiet --severity-level high --confidence-level medium \
  --exclude "./gen,./tests,./svc_user/migrations,./svc_catalog/migrations,./svc_stock/migrations,./svc_procure/migrations,./svc_order/migrations" \
  "${targets[@]}"
