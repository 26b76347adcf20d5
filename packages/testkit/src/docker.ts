// Docker for integration tests: the engine must be there under CI (.ci/run provisions
// it); a test never skips silently because of its absence.
import { execFileSync } from 'node:child_process';

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Throws (fails the test) when Docker is missing; outside CI a clear message says how to get it. */
export function requireDocker(): void {
  if (!dockerAvailable()) {
    throw new Error(
      'Docker engine not reachable: run `bash scripts/provision.sh` (installs and starts dockerd)',
    );
  }
}

/** The offline base image (deploy/build-base-image.sh), built on demand. */
export const BASE_IMAGE = process.env.BASE_IMAGE ?? 'headroom/node-base:24';

export function ensureBaseImage(): void {
  try {
    execFileSync('docker', ['image', 'inspect', BASE_IMAGE], { stdio: 'ignore' });
  } catch {
    execFileSync('bash', [new URL('../../../deploy/build-base-image.sh', import.meta.url).pathname], {
      stdio: 'inherit',
    });
  }
}

/** Removes every container carrying `label=value` (a test's own marker). */
export function removeLabelled(label: string, value: string): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${label}=${value}`])
    .toString()
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
}
