#!/usr/bin/env bash
# Makes a fresh Debian machine ready for the full test suite: the Docker engine and
# Compose v1 (docker.io, docker-compose), Prometheus with promtool and node-exporter, Chromium for the
# dashboard's browser tests, slowhttptest for the slow-client test, HAProxy/NGINX/Caddy/wrk for the benchmarks, a static busybox for
# the offline base image. Idempotent; fails loudly when a step fails.
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# only a Recommends of prometheus, which --no-install-recommends skips: the stack's node-exporter image is built from it
[[ -x /usr/bin/prometheus-node-exporter ]] || need+=(prometheus-node-exporter)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the multi-engine harness (packages/testkit/src/engines.ts): network namespaces, a bridge, veths,
# a FORWARD rule, dockerd entered with nsenter in its own UTS namespace
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
# slow-client attacks against the proxy (services/load-balancer/test/slowhttptest.test.ts)
command -v slowhttptest >/dev/null 2>&1 || need+=(slowhttptest)
[[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)

if ((${#need[@]} > 0)); then
  echo "provision: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # prometheus' postinst starts its own service on some hosts; tests run their own servers
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Debian's prometheus package may start a system server on :9090; stop it so tests own their ports.
if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus prometheus-node-exporter >/dev/null 2>&1 || true; fi
pkill -x prometheus >/dev/null 2>&1 || true
pkill -f /usr/bin/prometheus-node-exporter >/dev/null 2>&1 || true
# Debian's nginx/haproxy packages may start daemons too; the bench starts its own.
pkill -x nginx >/dev/null 2>&1 || true
pkill -x haproxy >/dev/null 2>&1 || true
# Debian's caddy package starts caddy.service where systemd runs (not in containers); the bench starts its own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now caddy >/dev/null 2>&1 || true; fi

if ! docker info >/dev/null 2>&1; then
  echo "provision: starting dockerd"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "provision: dockerd did not start; see /var/log/dockerd.log" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi
echo "provision: docker $(docker version -f '{{.Server.Version}}'), $(prometheus --version 2>&1 | head -1), $(chromium --version 2>/dev/null)"
