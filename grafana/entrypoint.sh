#!/bin/sh
# Grafana's entrypoint in deploy/docker-compose.yml: an admin password without a secret to
# invent. GRAFANA_ADMIN_PASSWORD (deploy/.env) wins; else the one kept in Grafana's data volume,
# generated on the first start and logged once. Then Grafana's own entrypoint (/run.sh in the
# official image). POSIX sh with tr/head/cat/mv only: the image is Alpine (busybox).
# Grafana applies the password when it creates its database (the first start); later changes
# are made in Grafana itself.
set -eu
file="${GRAFANA_PASSWORD_FILE:-/var/lib/grafana/headroom-admin-password}"
if [ -n "${GRAFANA_ADMIN_PASSWORD:-}" ]; then
  GF_SECURITY_ADMIN_PASSWORD="$GRAFANA_ADMIN_PASSWORD"
else
  if [ ! -s "$file" ]; then
    umask 077
    # 24 characters of [A-Za-z0-9] from the kernel's random source (~143 bits)
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "grafana admin password generated: $(cat "$file") (user admin; stored in $file; set GRAFANA_ADMIN_PASSWORD to use your own)"
  fi
  GF_SECURITY_ADMIN_PASSWORD="$(cat "$file")"
fi
export GF_SECURITY_ADMIN_PASSWORD
unset GRAFANA_ADMIN_PASSWORD
exec "${GRAFANA_ENTRYPOINT:-/run.sh}" "$@"
