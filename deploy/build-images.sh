#!/usr/bin/env bash
# Builds the project's images with no network inside any build: each service is built on the
# host (./dev), staged with `pnpm deploy --prod` into deploy/.stage/<service> (the load-balancer
# also gets the built dashboard), and that directory alone is the Docker build context.
# Also builds Prometheus and node-exporter images from Debian's binaries when they are
# installed (deploy/images/), for machines with no registry.
#
#   bash deploy/build-images.sh [service…]        # default: backend load-balancer autoscaler
#   BASE_IMAGE=node:24-slim bash deploy/build-images.sh   # real users with a registry
#
# BASE_IMAGE unset: the offline base headroom/node-base:24 (deploy/build-base-image.sh) is
# built and used. TAG (default latest) tags headroom/<service>:$TAG.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGE_ROOT="$ROOT/deploy/.stage"
# One build at a time on this machine: parallel test files share the stage directories.
if command -v flock >/dev/null 2>&1 && [[ -z "${HEADROOM_IMAGES_LOCKED:-}" ]]; then
  export HEADROOM_IMAGES_LOCKED=1
  exec flock "${TMPDIR:-/tmp}/headroom-build-images.lock" bash "${BASH_SOURCE[0]}" "$@"
fi
TAG="${TAG:-latest}"
if [[ -z "${BASE_IMAGE:-}" ]]; then
  bash "$ROOT/deploy/build-base-image.sh"
  BASE="headroom/node-base:24"
else
  BASE="$BASE_IMAGE"
fi

services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=(backend load-balancer autoscaler)

# Runs a step quietly; on failure shows its output and stops.
quiet() {
  local out
  out="$("$@" 2>&1)" || { printf '%s\n' "$out" >&2; echo "build-images: failed: $*" >&2; return 1; }
}

stage() {
  local svc="$1" dir="$STAGE_ROOT/$1"
  # the service and the workspace packages it needs at run time
  quiet "$ROOT/dev" --filter-prod "@headroom/$svc..." --workspace-concurrency=1 run build
  rm -rf "$dir"
  mkdir -p "$STAGE_ROOT"
  quiet "$ROOT/dev" --filter "@headroom/$svc" deploy --prod --legacy --prefer-offline "$dir"
  if [[ "$svc" == load-balancer ]]; then
    quiet "$ROOT/dev" --filter-prod "@headroom/dashboard..." --workspace-concurrency=1 run build
    [[ -f "$ROOT/apps/dashboard/dist/index.html" ]] || {
      echo "build-images: apps/dashboard/dist/index.html missing after the dashboard build" >&2
      exit 1
    }
    cp -r "$ROOT/apps/dashboard/dist" "$dir/dashboard"
  fi
  cp "$ROOT/.dockerignore" "$dir/.dockerignore"
  cp "$ROOT/deploy/prune-app.mjs" "$dir/prune-app.mjs"
}

for svc in "${services[@]}"; do
  dockerfile="$ROOT/services/$svc/Dockerfile"
  [[ -f "$dockerfile" ]] || { echo "build-images: no $dockerfile" >&2; exit 1; }
  echo "building headroom/$svc:$TAG (base $BASE)"
  stage "$svc"
  quiet docker build --build-arg "BASE_IMAGE=$BASE" -f "$dockerfile" -t "headroom/$svc:$TAG" \
    "$STAGE_ROOT/$svc"
done

# Prometheus and node-exporter from the host's Debian packages, for registry-less machines.
if [[ $# -eq 0 && -z "${BASE_IMAGE:-}" ]]; then
  bash "$ROOT/deploy/images/build-exporter-images.sh"
fi

# Each build leaves the first stage's image and the previous tag's image untagged: remove ours.
docker image prune -f --filter dangling=true --filter label=org.opencontainers.image.vendor=Headroom >/dev/null
