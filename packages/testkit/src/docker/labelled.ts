// Labelled containers for tests: `docker run` (or `docker create`) with the balancer's labels,
// a unique name, the test run's marker label, and removal by that marker, in afterAll and, as
// a safety net, when the test process exits. Works against the host engine or one of
// startEngines' engines (pass its `docker`).
import { randomBytes } from 'node:crypto';
import { LB_LABELS } from '@headroom/shared';
import { containerIp, hostDocker } from './engine.js';
import { BASE_IMAGE } from './images.js';

/** The marker label every container a test makes carries (its value: the test run's id). */
export const TEST_RUN_LABEL = 'headroom-test.run';

type DockerCli = (...args: string[]) => string;

/** A fresh id for one test file's run: names and markers built from it never collide. */
export function testRunId(prefix = 'hrt'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The labels that make a container one of `service`'s backends at the balancer. */
export function lbLabels(
  service: string,
  port = 3000,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    [LB_LABELS.enable]: 'true',
    [LB_LABELS.service]: service,
    [LB_LABELS.port]: String(port),
    ...extra,
  };
}

export interface LabelledOptions {
  /** The test run's id (testRunId()): the marker label's value, and what removeRun removes. */
  run: string;
  /** Exact container name (default: `<run>-<random>`). */
  name?: string;
  image?: string;
  labels?: Record<string, string>;
  env?: Record<string, string>;
  /** `-p` values, e.g. '127.0.0.1::3000' (a loopback port the engine picks). */
  publish?: string[];
  network?: string;
  /** Further `docker run` flags (--cpus, --health-cmd, -v …). */
  flags?: string[];
  /** What follows the image (default: none, the image's own command). */
  command?: string[];
  /** `docker create` instead of `docker run -d`: a stopped replica. */
  createOnly?: boolean;
  /** The engine (default: the host's). */
  docker?: DockerCli;
}

export interface LabelledContainer {
  id: string;
  name: string;
  docker: DockerCli;
  /** The host port a published container port is reachable at (127.0.0.1 or the engine's address). */
  hostPort(containerPort?: number): number;
  /** Its address on its (first) network. */
  ip(): string;
  remove(): void;
}

const made = new Map<string, DockerCli>();
let exitHook = false;

function removeOnExit(id: string, docker: DockerCli): void {
  made.set(id, docker);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const [c, cli] of made) {
      try {
        cli('rm', '-f', c);
      } catch {
        // gone already, or its engine is
      }
    }
  });
}

export function runLabelled(opts: LabelledOptions): LabelledContainer {
  const docker = opts.docker ?? hostDocker;
  const name = opts.name ?? `${opts.run}-${randomBytes(3).toString('hex')}`;
  const args = [...(opts.createOnly ? ['create'] : ['run', '-d']), '--name', name];
  args.push('--label', `${TEST_RUN_LABEL}=${opts.run}`);
  for (const [k, v] of Object.entries(opts.labels ?? {})) args.push('--label', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  for (const p of opts.publish ?? []) args.push('-p', p);
  if (opts.network) args.push('--network', opts.network);
  args.push(...(opts.flags ?? []), opts.image ?? BASE_IMAGE, ...(opts.command ?? []));
  const id = docker(...args);
  removeOnExit(id, docker);
  return {
    id,
    name,
    docker,
    hostPort(containerPort = 3000) {
      const out = docker('port', id, `${containerPort}/tcp`).split('\n')[0] ?? '';
      const port = Number(out.slice(out.lastIndexOf(':') + 1));
      if (!port) throw new Error(`${name}: port ${containerPort} not published (${out})`);
      return port;
    },
    ip: () => containerIp(id, docker),
    remove() {
      try {
        docker('rm', '-f', id);
      } catch {
        // removed already
      }
      made.delete(id);
    },
  };
}

/** A container running `node -e script` on the base image (a tiny server, a fault injector). */
export function runNodeScript(
  opts: Omit<LabelledOptions, 'command' | 'image'> & { script: string },
): LabelledContainer {
  const { script, ...rest } = opts;
  return runLabelled({ ...rest, command: ['node', '-e', script] });
}

/** Removes every container of a test run (on the host engine, or on `docker`'s). */
export function removeRun(run: string, docker: DockerCli = hostDocker): void {
  const ids = docker('ps', '-aq', '--filter', `label=${TEST_RUN_LABEL}=${run}`).split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '-f', ...ids);
  for (const id of ids) for (const known of made.keys()) if (known.startsWith(id)) made.delete(known);
}
