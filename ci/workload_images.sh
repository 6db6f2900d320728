#!/usr/bin/env bash
# Shared by ci/deploy_wait.sh and ci/rollout_wait.sh (sourced, not run): which images a
# workload's pods run, and whether a workload is one an image is deployed to.

# The repository of an image reference: without @digest and without :tag (a registry's :port
# stays, it comes before the last slash).
repository_of() {
  local ref="${1%%@*}"
  local last="${ref##*/}"
  if [[ "$last" == *:* ]]; then
    ref="${ref%:*}"
  fi
  printf '%s\n' "$ref"
}

# The images of a Deployment's or Rollout's pod template, one per line. A Rollout with a
# workloadRef has no template of its own: its pods run the referenced Deployment's.
template_images() {
  local namespace="$1" workload="$2" images ref
  images="$(kubectl get "$workload" -n "$namespace" -o jsonpath='{.spec.template.spec.containers[*].image}')"
  if [ -z "$images" ]; then
    ref="$(kubectl get "$workload" -n "$namespace" -o jsonpath='{.spec.workloadRef.kind}/{.spec.workloadRef.name}')"
    if [ "$ref" != "/" ]; then
      images="$(kubectl get "${ref,,}" -n "$namespace" -o jsonpath='{.spec.template.spec.containers[*].image}')"
    fi
  fi
  tr ' ' '\n' <<<"$images" | sed '/^$/d'
}

# The image of `wanted` (a full reference) whose repository this workload runs, if any.
image_for() {
  local namespace="$1" workload="$2" running wanted
  shift 2
  running="$(template_images "$namespace" "$workload")"
  for wanted in "$@"; do
    while IFS= read -r image; do
      if [ "$(repository_of "$image")" = "$(repository_of "$wanted")" ]; then
        printf '%s\n' "$wanted"
        return 0
      fi
    done <<<"$running"
  done
  return 0
}

# Wait until the workload's pods are templated with exactly `image`; fail at the deadline.
wait_for_template() {
  local namespace="$1" workload="$2" image="$3" deadline="$4" who="$5"
  until template_images "$namespace" "$workload" | grep -qxF "$image"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$who: $workload does not run $image after the sync deadline (is Argo CD syncing?)" >&2
      return 1
    fi
    sleep 10
  done
}
