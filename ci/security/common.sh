# Sourced by ci/security/*.sh: where the scanners come from.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_BIN="$ROOT/.build/tools/bin"
export ROOT TOOLS_BIN

# The Python scanners live in the tools venv (`make tools`, from ci/tools.txt), apart from
# .venv so their pins never fight the project's own dependencies.
tool() {
  local name="$1"
  if [ -x "$TOOLS_BIN/$name" ]; then
    echo "$TOOLS_BIN/$name"
  elif command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
  else
    echo "security: $name is missing: run \`make tools\` (or bash ci/security/setup.sh)" >&2
    return 1
  fi
}

# Go-built scanners (hadolint, gitleaks, trivy) are not on PyPI: a local binary wins,
# else the upstream image at a pinned tag. $1 is the binary, $2 the image.
binary_or_image() {
  if command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  elif command -v docker >/dev/null 2>&1; then
    echo "docker run --rm -i -v $ROOT:/repo -w /repo $2"
  else
    echo "security: neither $1 nor docker is installed" >&2
    return 1
  fi
}
