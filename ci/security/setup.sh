#!/usr/bin/env bash
# The tools venv (.build/tools) with the pinned scanners of ci/tools.txt, for CI and developers.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f ci/tools.txt ]; then
  echo "setup: ci/tools.txt is missing" >&2
  exit 1
fi
[ -x .build/tools/bin/python ] || python3 -m venv .build/tools
.build/tools/bin/python -m pip install --quiet --upgrade pip
.build/tools/bin/python -m pip install --quiet -r ci/tools.txt
