#!/usr/bin/env bash
# Prepares what a machine whose Docker builds cannot reach a registry lacks for
#   docker compose -f deploy/docker-compose.yml up -d --build
# and nothing else (a machine with network access never needs this script):
#   1. the offline Node base image headroom/node-base:24 (deploy/build-base-image.sh: the host's
#      pinned Node and pnpm), standing in for node:24-slim;
#   2. headroom/prometheus:local and headroom/node-exporter:local from Debian's binaries, when
#      installed (deploy/images/), standing in for prom/prometheus and prom/node-exporter;
#   3. the pnpm package store of pnpm-lock.yaml, fetched on the host (`pnpm fetch`) and packed
#      into one file, deploy/.pnpm-store/store.tar.gz, which the builder stage of deploy/Dockerfile
#      unpacks (ADD) and installs from offline. One file, not the store's 15,000: the legacy
#      builder sends the whole context on every build, and one 100 MB file goes in about 1 s
#      where the unpacked 330 MB store took 15 s, for each of the builds a CI run makes.
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
PACKED="$STORE/store.tar.gz"
STAMP="$STORE/.lockfile-sha1"
want="$(sha1sum <"$ROOT/pnpm-lock.yaml" | cut -d' ' -f1) pnpm-$(pnpm -v) packed"
# the unpacked store an earlier version of this script left here: never sent (.dockerignore), so
# only disk space
rm -rf "$STORE/v10"
if [[ -f "$PACKED" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "offline-prep: package store deploy/.pnpm-store/store.tar.gz is up to date" >&2
else
  echo "offline-prep: fetching the package store of pnpm-lock.yaml into deploy/.pnpm-store/store.tar.gz" >&2
  # `pnpm fetch` in the repository would replace its node_modules (other store): run it in a
  # directory holding only what it reads, with the store beside it.
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir "$work/project"
  cp "$ROOT/package.json" "$ROOT/pnpm-lock.yaml" "$ROOT/pnpm-workspace.yaml" "$work/project/"
  (cd "$work/project" && CI=true pnpm fetch --store-dir "$work/store" --reporter=silent) >&2
  [[ -d "$work/store/v10" ]] || { echo "offline-prep: pnpm fetch left no store/v10" >&2; exit 1; }
  # gzip -1: a third of the size in a few seconds; more would cost more than it saves. Written
  # beside and renamed, so a build running meanwhile, or after an interrupted run, always finds
  # a whole archive (the old one until the new one is complete).
  tar -C "$work/store" -cf - v10 | gzip -1 >"$PACKED.partial"
  mv "$PACKED.partial" "$PACKED"
  echo "$want" >"$STAMP"
fi

echo "$BASE"
