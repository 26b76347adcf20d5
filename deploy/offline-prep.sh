#!/usr/bin/env bash
# Prepares what a machine whose Docker builds cannot reach a registry lacks for
#   docker compose -f deploy/docker-compose.yml up -d --build
# and nothing else (a machine with network access never needs this script):
#   1. the offline Node base image headroom/node-base:24 (deploy/build-base-image.sh: the host's
#      pinned Node and pnpm), standing in for node:24-slim;
#   2. headroom/prometheus:local and headroom/node-exporter:local from Debian's binaries, when
#      installed (deploy/images/), standing in for prom/prometheus and prom/node-exporter;
#   3. the pnpm package store of pnpm-lock.yaml, fetched on the host (`pnpm fetch`) into
#      deploy/.pnpm-store, which the builder stage of deploy/Dockerfile installs from offline.
# Idempotent: each part is skipped when up to date (the store is fetched again, from scratch,
# only when pnpm-lock.yaml changed). Progress goes to stderr; the LAST line of stdout is the
# BASE_IMAGE to build with:
#   BASE_IMAGE="$(bash deploy/offline-prep.sh | tail -n1)" \
#   PROMETHEUS_IMAGE=headroom/prometheus:local NODE_EXPORTER_IMAGE=headroom/node-exporter:local \
#     docker-compose -f deploy/docker-compose.yml up -d --build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One preparation at a time: parallel test files would fetch into the same store.
if command -v flock >/dev/null 2>&1 && [[ -z "${HEADROOM_OFFLINE_PREP_LOCKED:-}" ]]; then
  export HEADROOM_OFFLINE_PREP_LOCKED=1
  exec flock "${TMPDIR:-/tmp}/headroom-offline-prep.lock" bash "${BASH_SOURCE[0]}" "$@"
fi
# shellcheck source=../scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh"
ensure_toolchain
# not BASE_IMAGE: a BASE_IMAGE=node:24-slim left in the environment must not be overwritten
BASE="${OFFLINE_BASE_IMAGE:-headroom/node-base:24}"

BASE_IMAGE="$BASE" bash "$ROOT/deploy/build-base-image.sh" >&2
EXPORTER_BASE_IMAGE="$BASE" bash "$ROOT/deploy/images/build-exporter-images.sh" >&2

STORE="$ROOT/deploy/.pnpm-store"
STAMP="$STORE/.lockfile-sha1"
want="$(sha1sum <"$ROOT/pnpm-lock.yaml" | cut -d' ' -f1) pnpm-$(pnpm -v)"
if [[ -d "$STORE/v10" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "offline-prep: package store deploy/.pnpm-store is up to date" >&2
else
  echo "offline-prep: fetching the package store of pnpm-lock.yaml into deploy/.pnpm-store" >&2
  rm -rf "$STORE/v10" "$STAMP"
  # `pnpm fetch` in the repository would replace its node_modules (other store): run it in a
  # directory holding only what it reads.
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cp "$ROOT/package.json" "$ROOT/pnpm-lock.yaml" "$ROOT/pnpm-workspace.yaml" "$work/"
  (cd "$work" && CI=true pnpm fetch --store-dir "$STORE" --reporter=silent) >&2
  [[ -d "$STORE/v10" ]] || { echo "offline-prep: pnpm fetch left no $STORE/v10" >&2; exit 1; }
  echo "$want" >"$STAMP"
fi

echo "$BASE"
