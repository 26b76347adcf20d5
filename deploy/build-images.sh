#!/usr/bin/env bash
# Builds the project's images with no registry: the offline Node base image first, then
# every service's Dockerfile FROM it. Real users run `docker compose build` instead,
# which uses the node:24-slim default. Set BASE_IMAGE to reuse another base.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/deploy/build-base-image.sh"
BASE="${BASE_IMAGE:-headroom/node-base:24}"
for svc in backend load-balancer autoscaler; do
  dockerfile="$ROOT/services/$svc/Dockerfile"
  [[ -f "$dockerfile" ]] || continue
  echo "building headroom/$svc"
  docker build -q --build-arg "BASE_IMAGE=$BASE" -f "$dockerfile" -t "headroom/$svc:latest" "$ROOT" >/dev/null
done
