// Clusters are claimed by number (an atomic mkdir, with the owner's pid) and destroyed by number:
// a run that was killed leaves a directory whose owner is dead, and the next run removes it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, engineDir, engineName, lines } from './host.js';
import { removeNetwork } from './network.js';
import { cgroupDirs, killEngineProcesses, removeCgroupTree, unmountUnder } from './processes.js';
import { ENGINE_PREFIX, ENGINE_STATE_ROOT } from './types.js';

/** Removes one cluster's leftovers by id, whether its engines are running or not. */
export function destroyCluster(id: number): void {
  const dir = join(ENGINE_STATE_ROOT, `c${id}`);
  const engines = existsSync(dir)
    ? readdirSync(dir)
        .filter((e) => /^e\d+$/.test(e))
        .map((e) => Number(e.slice(1)))
    : [];
  const count = Math.max(engines.length === 0 ? 0 : Math.max(...engines) + 1, 20);
  for (let i = 0; i < count; i++) {
    const ns = engineName(id, i);
    if (!existsSync(`/var/run/netns/${ns}`) && !existsSync(engineDir(id, i))) continue;
    killEngineProcesses(ns, engineDir(id, i));
    for (const cg of cgroupDirs(ns)) removeCgroupTree(cg);
  }
  unmountUnder(dir);
  removeNetwork(id, count);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Removes clusters left by runs that died without tearing down (their owner process is gone),
 * and netns/bridges with the prefix that no live cluster owns. Live clusters of other test
 * processes running now are left alone.
 */
export function cleanupStaleEngines(): number[] {
  const removed: number[] = [];
  const live = new Set<number>();
  if (existsSync(ENGINE_STATE_ROOT)) {
    for (const entry of readdirSync(ENGINE_STATE_ROOT)) {
      const m = /^c(\d+)$/.exec(entry);
      if (!m) continue;
      const id = Number(m[1]);
      let owner = 0;
      try {
        owner = Number(readFileSync(join(ENGINE_STATE_ROOT, entry, 'owner'), 'utf8'));
      } catch {
        // a directory being created right now has no owner file for a moment: judge it by age
        const age = Date.now() - statSync(join(ENGINE_STATE_ROOT, entry)).mtimeMs;
        if (age < 60_000) {
          live.add(id);
          continue;
        }
      }
      if (owner > 0 && alive(owner)) {
        live.add(id);
        continue;
      }
      destroyCluster(id);
      removed.push(id);
    }
  }
  // Namespaces and bridges without a state directory (the directory was removed by hand).
  const orphans = new Set<number>();
  const nsList = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const l of lines(nsList)) {
    const m = new RegExp(`^${ENGINE_PREFIX}(\\d+)-\\d+`).exec(l);
    if (m) orphans.add(Number(m[1]));
  }
  const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout ?? '';
  for (const l of lines(links)) {
    const m = new RegExp(`^\\d+: ${ENGINE_PREFIX}(\\d+):`).exec(l);
    if (m) orphans.add(Number(m[1]));
  }
  for (const id of orphans) {
    if (live.has(id) || removed.includes(id)) continue;
    destroyCluster(id);
    removed.push(id);
  }
  return removed;
}

/** Claims a free cluster number: mkdir is atomic, so two test processes never get the same one. */
export function claimClusterId(): number {
  mkdirSync(ENGINE_STATE_ROOT, { recursive: true });
  for (let id = 1; id < 250; id++) {
    const dir = join(ENGINE_STATE_ROOT, `c${id}`);
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    writeFileSync(join(dir, 'owner'), String(process.pid));
    return id;
  }
  throw new Error(`no free engine cluster number under ${ENGINE_STATE_ROOT}`);
}
