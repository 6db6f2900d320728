#!/usr/bin/env bash
# pip-audit of exactly what the project installs (.venv, less the project itself): PyPI's
# advisories carry no severity, so any known vulnerability fails; an accepted one goes into
# ci/security/pip-audit-ignore.txt as "ID  reason", one a line.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"
audit="$(tool pip-audit)"
if [ ! -x .venv/bin/python ]; then
  echo "pip_audit: .venv is missing: run \`make test\` or \`make up\` once" >&2
  exit 1
fi
requirements="$(mktemp)"
trap 'rm -f "$requirements"' EXIT
.venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' >"$requirements"
ignores=()
if [ -f ci/security/pip-audit-ignore.txt ]; then
  while read -r id _reason; do
    case "$id" in ''|'#'*) continue ;; esac
    ignores+=(--ignore-vuln "$id")
  done <ci/security/pip-audit-ignore.txt
fi
"$audit" --strict --no-deps --disable-pip --requirement "$requirements" "${ignores[@]}"
