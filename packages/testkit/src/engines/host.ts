// Small synchronous helpers the engine harness runs everything through, and the names of
// what one cluster owns (netns, bridge, state directory, address).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_PREFIX, ENGINE_STATE_ROOT } from './types.js';

export const lines = (s: string) => s.split('\n').filter(Boolean);

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${res.status ?? res.signal}): ${(res.stderr || res.stdout || String(res.error ?? '')).trim()}`,
    );
  }
  return res.stdout.trim();
}

/** Runs a cleanup step; a step that has nothing to clean fails harmlessly. */
export function tryRun(cmd: string, args: string[], timeoutMs = 30_000): void {
  spawnSync(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
}

/** A process that exists and is not a zombie (a killed dockerd stays one until its parent reaps it). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": the state follows the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export const clusterName = (id: number) => `${ENGINE_PREFIX}${id}`;
export const engineName = (id: number, i: number) => `${ENGINE_PREFIX}${id}-${i}`;
export const engineDir = (id: number, i: number) => join(ENGINE_STATE_ROOT, `c${id}`, `e${i}`);
export const engineAddress = (id: number, i: number) => `10.77.${id}.${11 + i}`;
