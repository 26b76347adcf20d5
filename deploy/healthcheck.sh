#!/bin/sh
# headroom-healthcheck PORT PATH: the images' Docker HEALTHCHECK without starting a Node
# process. `node -e fetch(…)` costs ~60 ms of CPU, more than a `--cpus 0.5` container's quota
# for a whole 100 ms period, so every check (each 5 s) stalled that container's requests for a
# period (the balancing benchmarks saw it in every p99). bash's /dev/tcp where there is bash
# (node:24-slim: no process but the shell); else node with node:http (half of fetch's cost).
# Not busybox wget (the offline base has it): the static busybox segfaults in it on Debian 12.
port="$1"
path="$2"
if command -v bash >/dev/null 2>&1; then
  exec bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3
IFS= read -r status <&3 || exit 1
case "$status" in "HTTP/1."[01]" 200"*) exit 0 ;; *) exit 1 ;; esac' "$port" "$path"
fi
exec node -e "require('node:http').get('http://127.0.0.1:$port$path', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"
