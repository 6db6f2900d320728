#!/usr/bin/env bash
# The Debian packages the test command needs beyond Python and Node, each installed only when its
# program is missing, never prompting: as root directly, otherwise through sudo if it needs no
# password.
#   chromium    the console's browser tests (tests/e2e): Playwright drives Debian's browser, so
#               `playwright install` and its downloads are never needed
#   prometheus  for promtool, which checks the alert rules (tests/platform)
set -euo pipefail

declare -A WANTED=([/usr/bin/promtool]=prometheus)
# STOCKMESH_CHROMIUM names another Chromium build to test with (tests/e2e/browser.py).
if [ -z "${STOCKMESH_CHROMIUM:-}" ] || [ ! -x "${STOCKMESH_CHROMIUM}" ]; then
  WANTED[/usr/bin/chromium]=chromium
fi
missing=()
for program in "${!WANTED[@]}"; do
  [ -x "$program" ] || missing+=("${WANTED[$program]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "debian-packages.sh: ${missing[*]} missing, and installing needs root (or sudo without a password):" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

apt_get() {
  # Passed through env, not exported: sudo drops the caller's environment.
  ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"
}

echo "debian-packages.sh: installing ${missing[*]}"
# The package lists are refreshed only when the install fails on stale or missing ones: an update
# is slow, and most machines can install from the lists they have.
if ! apt_get install --no-install-recommends "${missing[@]}"; then
  apt_get update
  apt_get install --no-install-recommends "${missing[@]}"
fi
for program in "${!WANTED[@]}"; do
  test -x "$program"
done
