// Each engine is its own dockerd in its own network and UTS namespace; images reach it as one
// tar saved from the host engine (nothing can be pulled).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ensureImages } from '../docker/images.js';
import { engineAddress, engineDir, engineName, run } from './host.js';
import { ENGINE_STATE_ROOT, type Engine } from './types.js';

function hostImageId(image: string): string | undefined {
  const res = spawnSync('docker', ['image', 'inspect', '-f', '{{.Id}}', image], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/** An archive used (made or reused) this recently may be loading into an engine: kept. */
export const ARCHIVE_IN_USE_MS = 30 * 60_000;

/**
 * Removes the image archives in `dir` (hundreds of MB each) not used for ARCHIVE_IN_USE_MS.
 * Not every other one: a test file starting engines beside this one (another vitest project, a
 * second run) may be loading it, and removing them all lost one mid-load in a CI run
 * (multi-node-swarm.test.ts: `docker load`: no such file).
 */
export function pruneArchives(dir: string, now: number): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.tar')) continue;
    const path = join(dir, name);
    const used = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
    if (used !== undefined && now - used > ARCHIVE_IN_USE_MS) rmSync(path, { force: true });
  }
}

/**
 * One tar of the images, kept under STATE_ROOT keyed by their ids: several clusters in a row
 * (and several engines) load the same file instead of saving again.
 */
export function imageArchive(images: readonly string[], buildMissing: boolean): string {
  // a missing project image is built (deploy/build-images.sh); any other missing one fails clearly
  if (buildMissing) ensureImages(images);
  const ids = images.map(hostImageId);
  const missing = images.filter((_, i) => ids[i] === undefined);
  if (missing.length > 0) {
    throw new Error(`images not on the host engine: ${missing.join(', ')} (bash deploy/build-images.sh)`);
  }
  const key = createHash('sha256')
    .update(images.map((img, i) => `${img}=${ids[i]}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const dir = join(ENGINE_STATE_ROOT, 'images');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${key}.tar`);
  if (existsSync(file)) {
    // in use: marked, so that another image set's run does not remove it (pruneArchives)
    const now = new Date();
    utimesSync(file, now, now);
  } else {
    pruneArchives(dir, Date.now());
    const tmp = `${file}.${process.pid}.tmp`;
    run('docker', ['save', '-o', tmp, ...images], { timeoutMs: 300_000 });
    renameSync(tmp, file);
  }
  return file;
}

export function startEngineProcess(id: number, i: number): void {
  const ns = engineName(id, i);
  const dir = engineDir(id, i);
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'exec'), { recursive: true });
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  // Its own config file (not the host's /etc/docker/daemon.json) and its own identity key: with
  // the shared /etc/docker/key.json every engine reported the host engine's ID.
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') }));
  const dockerd = [
    'dockerd',
    '--config-file',
    join(dir, 'daemon.json'),
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '-H',
    `unix://${join(dir, 'docker.sock')}`,
    '-H',
    `tcp://${engineAddress(id, i)}:2375`,
    // said explicitly: without it dockerd 20.10 sleeps 15 s at start to warn about plain TCP
    '--tls=false',
    // its containers in a cgroup tree of their own: killed with the engine, not with the host's
    '--cgroup-parent',
    `/${ns}`,
    '--log-level',
    'warn',
  ];
  // Detached: a test process that dies leaves the engine to the next run's stale cleanup
  // instead of taking half of it down.
  const child = spawn(
    'nsenter',
    [
      `--net=/var/run/netns/${ns}`,
      'unshare',
      '--uts',
      'sh',
      '-c',
      `hostname ${ns} && exec "$@"`,
      'sh',
      ...dockerd,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  closeSync(log);
}

export async function runAsync(cmd: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`)),
    );
  });
}

/** The last lines of each engine's dockerd log, for a start-up failure's message. */
export function engineLogs(id: number, engines: Engine[]): string {
  return engines
    .map((e) => {
      try {
        const text = readFileSync(join(engineDir(id, e.index), 'dockerd.log'), 'utf8');
        return `--- ${e.name} dockerd.log\n${text.split('\n').slice(-15).join('\n')}`;
      } catch {
        return `--- ${e.name}: no log`;
      }
    })
    .join('\n');
}
