#!/usr/bin/env bash
# Builds a Node base image with no registry at all: the project's pinned Node binary
# (./dev installs it into .tools/node) plus the shared libraries ldd lists and a static
# busybox for RUN steps, packed into a rootfs and `docker import`ed. The Dockerfiles take
# it through `--build-arg BASE_IMAGE=…`; real users keep the default node:24-slim.
# Idempotent: does nothing when the image already carries this Node version.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh"
ensure_toolchain
IMAGE="${BASE_IMAGE:-headroom/node-base:24}"
NODE_BIN="$(command -v node)"
NODE_VERSION_NOW="$(node -v)"

if docker image inspect "$IMAGE" >/dev/null 2>&1 \
  && [[ "$(docker image inspect -f '{{index .Config.Labels "headroom.node-version"}}' "$IMAGE" 2>/dev/null)" == "$NODE_VERSION_NOW" ]]; then
  echo "base image $IMAGE ($NODE_VERSION_NOW) is up to date"
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
# every library the dynamic loader needs, at the same path as on the host
for lib in $(ldd "$NODE_BIN" | grep -oE '/[^ ]+'); do
  mkdir -p "$ROOTFS$(dirname "$lib")"
  cp -L "$lib" "$ROOTFS$lib"
done
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
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
echo "built $IMAGE with Node $NODE_VERSION_NOW"
