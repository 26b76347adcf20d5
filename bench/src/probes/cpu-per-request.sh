#!/bin/bash
# CPU per /load?ms=10 request of a stress-backend container at --cpus 0.125 and 0.5, from its
# cgroup (cgroup v1 cpuacct.usage, idle time between requests included), and the latencies of
# 40 requests 250 ms apart. docs/benchmarks.md (Overload in simulation, heterogeneous) cites it.
# Needs headroom/backend:latest (deploy/build-images.sh). Usage: bash bench/src/probes/cpu-per-request.sh
set -e
for cpus in 0.125 0.5; do
  n=probe-$RANDOM
  docker run -d --name $n --cpus $cpus --memory 256m -p 127.0.0.1::3000 --no-healthcheck -e LOG_LEVEL=warn headroom/backend:latest >/dev/null
  port=$(docker port $n 3000/tcp | head -1 | awk -F: '{print $NF}')
  id=$(docker inspect -f '{{.Id}}' $n)
  for i in $(seq 50); do curl -sf http://127.0.0.1:$port/health >/dev/null 2>&1 && break; sleep 0.2; done
  for i in $(seq 20); do curl -s -o /dev/null "http://127.0.0.1:$port/load?ms=10"; sleep 0.15; done
  cg=/sys/fs/cgroup/cpu,cpuacct/docker/$id/cpuacct.usage
  [ -f $cg ] || cg=$(find /sys/fs/cgroup -path "*$id*" -name cpuacct.usage | head -1)
  a=$(cat $cg)
  lat=$(for i in $(seq 40); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/load?ms=10"; sleep 0.25; done | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f p90 %.1f max %.1f ms", a[int(NR*0.5)]*1000, a[int(NR*0.9)]*1000, a[NR]*1000}')
  b=$(cat $cg)
  echo "cpus $cpus: CPU per request $(( (b-a)/40/1000 )) us; spaced latencies $lat"
  docker rm -f $n >/dev/null
done
