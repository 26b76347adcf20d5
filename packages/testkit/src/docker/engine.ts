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

/** Removes every container carrying `label=value` (a test's own marker). */
export function removeLabelled(
  label: string,
  value: string,
  docker: (...args: string[]) => string = hostDocker,
): void {
  const ids = docker('ps', '-aq', '--filter', `label=${label}=${value}`).split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '-f', ...ids);
}

/** The docker CLI against the host engine: trimmed stdout; throws with stderr on failure. */
export function hostDocker(...args: string[]): string {
  try {
    return execFileSync('docker', args, {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** A container's address on its (first) network. */
export function containerIp(idOrName: string, docker: (...args: string[]) => string = hostDocker): string {
  const out = docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', idOrName);
  const ip = out.split(' ').find(Boolean);
  if (!ip) throw new Error(`${idOrName} has no IP address yet`);
  return ip;
}
