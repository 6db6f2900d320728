#!/usr/bin/env bash
# The production gate: this job runs only once a required reviewer of the protected
# `production` environment approved it, so all it does is record who released what.
set -euo pipefail
summary="${GITHUB_STEP_SUMMARY:-/dev/stdout}"
{
  echo "### Production release approved"
  echo "- ref: ${GITHUB_REF_NAME:-unknown} (${GITHUB_SHA:-unknown})"
  echo "- triggered by: ${GITHUB_ACTOR:-unknown}"
  echo "- run: ${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
} >>"$summary"
