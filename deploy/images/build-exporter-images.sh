#!/usr/bin/env bash
# Builds headroom/prometheus:local and headroom/node-exporter:local from Debian's binaries
# (packages prometheus and prometheus-node-exporter) on the offline base image: for machines
# with no registry. The binaries are Go programs linked only against libc, which the base
# carries (checked with ldd below). Idempotent; does nothing for a binary that is not installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="${EXPORTER_BASE_IMAGE:-headroom/node-base:24}"
docker image inspect "$BASE" >/dev/null 2>&1 || bash "$ROOT/deploy/build-base-image.sh"
CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT

# Fails when a binary needs a library other than libc and the loader.
check_libs() {
  local extra
  extra="$(ldd "$1" 2>/dev/null | grep -oE '/[^ ]+' | grep -vE '/(libc\.so\.6|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$' || true)"
  if [[ -n "$extra" ]]; then
    echo "build-exporter-images: $1 needs libraries the base lacks: $extra" >&2
    exit 1
  fi
}

if [[ -x /usr/bin/prometheus && -x /usr/bin/promtool ]]; then
  check_libs /usr/bin/prometheus
  mkdir -p "$CTX/prometheus"
  cp /usr/bin/prometheus /usr/bin/promtool "$CTX/prometheus/"
  # The official image's default: scrape itself (compose mounts the project's config over it).
  printf 'global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: [localhost:9090]\n' \
    >"$CTX/prometheus/prometheus.yml"
  if [[ -d /usr/share/prometheus/web ]]; then cp -r /usr/share/prometheus/web "$CTX/prometheus/web"; else mkdir "$CTX/prometheus/web"; fi
  echo "building headroom/prometheus:local"
  docker build -q --build-arg "BASE_IMAGE=$BASE" -f "$ROOT/deploy/images/prometheus.Dockerfile" \
    -t headroom/prometheus:local "$CTX/prometheus" >/dev/null
else
  echo "build-exporter-images: /usr/bin/prometheus not installed (apt-get install prometheus): skipped" >&2
fi

if [[ -x /usr/bin/prometheus-node-exporter ]]; then
  check_libs /usr/bin/prometheus-node-exporter
  mkdir -p "$CTX/node-exporter"
  cp /usr/bin/prometheus-node-exporter "$CTX/node-exporter/node_exporter"
  echo "building headroom/node-exporter:local"
  docker build -q --build-arg "BASE_IMAGE=$BASE" -f "$ROOT/deploy/images/node-exporter.Dockerfile" \
    -t headroom/node-exporter:local "$CTX/node-exporter" >/dev/null
else
  echo "build-exporter-images: node_exporter not installed (apt-get install prometheus-node-exporter): skipped" >&2
fi
