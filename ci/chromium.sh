#!/usr/bin/env bash
# Debian's chromium for the console's browser tests (tests/e2e): Playwright drives the browser as
# Debian installs it, so `playwright install` and its downloads are never needed. Installs only
# when missing and never prompts: as root directly, otherwise through sudo if it needs no password.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium.sh: $CHROMIUM is missing, and installing it needs root (or sudo without a password):" >&2
  echo "  apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi

apt_get() {
  # Passed through env, not exported: sudo drops the caller's environment.
  ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"
}

echo "chromium.sh: installing Debian's chromium"
# The package lists are refreshed only when the install fails on stale or missing ones: an update
# is slow, and most machines can install from the lists they have.
if ! apt_get install --no-install-recommends chromium; then
  apt_get update
  apt_get install --no-install-recommends chromium
fi
test -x "$CHROMIUM"
