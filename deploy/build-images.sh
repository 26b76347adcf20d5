#!/usr/bin/env bash
# Builds the project's images through deploy/Dockerfile, exactly as
# `docker compose -f deploy/docker-compose.yml build` does (context: the repository root, one
# target per service), tagged headroom/<service>:$TAG for the tests and the Swarm stack.
#
#   bash deploy/build-images.sh [service…]                # default: backend load-balancer autoscaler
#   BASE_IMAGE=node:24-slim bash deploy/build-images.sh   # with a registry: nothing else needed
#
# BASE_IMAGE unset: deploy/offline-prep.sh runs first (offline base image, Prometheus and
# node-exporter images from Debian's binaries, the package store in deploy/.pnpm-store/store.tar.gz) and its
# base image is used, so this works with no registry at all. TAG defaults to latest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One build at a time on this machine: parallel test files would build the same tags.
if command -v flock >/dev/null 2>&1 && [[ -z "${HEADROOM_IMAGES_LOCKED:-}" ]]; then
  export HEADROOM_IMAGES_LOCKED=1
  exec flock "${TMPDIR:-/tmp}/headroom-build-images.lock" bash "${BASH_SOURCE[0]}" "$@"
fi
TAG="${TAG:-latest}"
if [[ -z "${BASE_IMAGE:-}" ]]; then
  BASE="$(bash "$ROOT/deploy/offline-prep.sh" | tail -n1)"
else
  BASE="$BASE_IMAGE"
fi

services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=(backend load-balancer autoscaler)

# Runs a build quietly; on failure shows its output and stops.
build() {
  local out
  out="$(docker build --build-arg "BASE_IMAGE=$BASE" -f "$ROOT/deploy/Dockerfile" "$@" "$ROOT" 2>&1)" || {
    printf '%s\n' "$out" >&2
    echo "build-images: docker build $* failed" >&2
    exit 1
  }
}

# image ids before, to skip the prune below when every build was a cache hit (it takes ~10 s here)
ids() {
  local refs=(headroom/build-cache:latest) svc
  for svc in "${services[@]}"; do refs+=("headroom/$svc:$TAG"); done
  docker image inspect -f '{{.Id}}' "${refs[@]}" 2>/dev/null || true
}
before="$(ids)"

# The builder stage first, tagged: it is the layer cache every target (and docker compose)
# reuses, and the tag keeps the image prune below from removing it.
echo "building the builder stage (base $BASE)" >&2
build --target builder -t headroom/build-cache:latest
for svc in "${services[@]}"; do
  case "$svc" in backend | load-balancer | autoscaler) ;; *)
    echo "build-images: unknown service $svc (backend, load-balancer, autoscaler)" >&2
    exit 1
    ;;
  esac
  echo "building headroom/$svc:$TAG" >&2
  build --target "$svc" -t "headroom/$svc:$TAG"
done

# A rebuild leaves the previous tags' images (and the previous builder stage) untagged: remove them.
if [[ "$(ids)" != "$before" ]]; then
  docker image prune -f --filter dangling=true --filter label=org.opencontainers.image.vendor=Headroom >/dev/null
fi
