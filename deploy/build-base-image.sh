#!/usr/bin/env bash
# Builds a Node base image with no registry at all: the project's pinned Node binary
# (./dev installs it into .tools/node) plus the shared libraries ldd lists and a static
# busybox for RUN steps, and the project's pinned pnpm (.tools/pnpm: the builder stage of
# deploy/Dockerfile needs it, and corepack or npm would need the registry), packed into a
# rootfs and `docker import`ed. deploy/offline-prep.sh builds it and the Dockerfile takes it
# through `--build-arg BASE_IMAGE=…`; real users keep the default node:24-slim.
# Idempotent: does nothing when the image already carries these Node and pnpm versions.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh"
ensure_toolchain
IMAGE="${BASE_IMAGE:-headroom/node-base:24}"
NODE_BIN="$(command -v node)"
# the base's own recipe version: bump it when what goes into the image changes
RECIPE=2
NODE_VERSION_NOW="$(node -v)-r$RECIPE"
PNPM_VERSION_NOW="$(pnpm -v)"
PNPM_DIR="$(cd "$(dirname "$(readlink -f "$(command -v pnpm)")")/.." && pwd)"
[[ -f "$PNPM_DIR/bin/pnpm.cjs" ]] || { echo "build-base-image: no bin/pnpm.cjs under $PNPM_DIR" >&2; exit 1; }

if docker image inspect "$IMAGE" >/dev/null 2>&1 \
  && [[ "$(docker image inspect -f '{{index .Config.Labels "headroom.node-version"}} {{index .Config.Labels "headroom.pnpm-version"}}' "$IMAGE" 2>/dev/null)" == "$NODE_VERSION_NOW $PNPM_VERSION_NOW" ]]; then
  echo "base image $IMAGE (Node $NODE_VERSION_NOW, pnpm $PNPM_VERSION_NOW) is up to date" >&2
  exit 0
fi

BUSYBOX="$(command -v busybox || true)"
if [[ -z "$BUSYBOX" ]] || ! file_out="$(ldd "$BUSYBOX" 2>&1)" || [[ "$file_out" != *"not a dynamic executable"* ]]; then
  if command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    BUSYBOX=/bin/busybox
  else
    echo "build-base-image: a static busybox is needed (Debian: apt-get install busybox-static)" >&2
    exit 1
  fi
fi

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
mkdir -p "$ROOTFS"/{bin,usr/local/bin,etc,tmp,app,home/node,proc,sys,dev,var/run}
chmod 1777 "$ROOTFS/tmp"
cp "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
# every library the dynamic loader needs, at the same path as on the host, and the rest of
# glibc's runtime that node:24-slim has too: native addons the builder stage loads (rolldown,
# lightningcss in the dashboard build) need librt.
LIBC_DIR="$(dirname "$(ldd "$NODE_BIN" | grep -oE '/[^ ]+/libc\.so\.6')")"
GLIBC_EXTRA=()
for extra in librt.so.1 libresolv.so.2 libutil.so.1; do
  [[ -e "$LIBC_DIR/$extra" ]] && GLIBC_EXTRA+=("$LIBC_DIR/$extra")
done
for lib in $(ldd "$NODE_BIN" | grep -oE '/[^ ]+') "${GLIBC_EXTRA[@]}"; do
  mkdir -p "$ROOTFS$(dirname "$lib")"
  cp -L "$lib" "$ROOTFS$lib"
done
# pnpm is one self-contained package: its directory and a launcher
mkdir -p "$ROOTFS/usr/local/lib/pnpm"
cp -r "$PNPM_DIR/bin" "$PNPM_DIR/dist" "$PNPM_DIR/package.json" "$ROOTFS/usr/local/lib/pnpm/"
printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/pnpm/bin/pnpm.cjs "$@"\n' >"$ROOTFS/usr/local/bin/pnpm"
chmod 755 "$ROOTFS/usr/local/bin/pnpm"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for applet in sh ash cat ls mkdir rm cp mv chown chmod ln env sleep wget id adduser addgroup true false echo test grep sed; do
  ln -sf busybox "$ROOTFS/bin/$applet"
done
cat > "$ROOTFS/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$ROOTFS/etc/group" <<'GROUP'
root:x:0:
node:x:1000:
nogroup:x:65534:
GROUP
echo 'hosts: files dns' > "$ROOTFS/etc/nsswitch.conf"
chown -R 1000:1000 "$ROOTFS/home/node"

tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change "LABEL headroom.node-version=$NODE_VERSION_NOW" \
  --change "LABEL headroom.pnpm-version=$PNPM_VERSION_NOW" \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
echo "built $IMAGE with Node $NODE_VERSION_NOW and pnpm $PNPM_VERSION_NOW" >&2
