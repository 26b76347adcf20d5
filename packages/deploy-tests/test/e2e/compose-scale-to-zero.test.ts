// Scale to zero in the compose stack, switched on by one line in an env file (what deploy/.env
// is): MIN_REPLICAS=0 (plus a short idle window, so the test takes seconds, not the default 5
// minutes). The stack as shipped, on the real engine: the two backends compose starts are put
// to sleep (stopped, one container kept), the balancer reports the service sleeping, and a
// request that then arrives is held, wakes the autoscaler and is answered by a backend.
// Before the fix the autoscaler restarted in a loop (no SCALE_TO_ZERO_AFTER_MS passed) and,
// given one, could not stop compose's backends (not owned: NothingToRemove).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backendListSchema,
  decisionListSchema,
  LB_LABELS,
  OWNER_LABELS,
  OWNER_VALUE,
} from '@headroom/shared';
import { removeLabelled, requireDocker, waitFor } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeCommand } from '../../src/compose-command.js';
import { repoPath } from '../../src/repo-files.js';
import { type StackEnv, stackEnv } from '../../src/stack-env.js';

const SERVICES = ['load-balancer', 'autoscaler', 'backend', 'prometheus'];
const [cli, ...cliArgs] = composeCommand();
let stack: StackEnv;
let envDir = '';

// nothing of the caller's environment that the env file should decide
const {
  ADMIN_TOKEN: _t,
  GRAFANA_ADMIN_PASSWORD: _p,
  MIN_REPLICAS: _m,
  SCALE_TO_ZERO_AFTER_MS: _s,
  ...callerEnv
} = process.env;

function composeRun(...args: string[]) {
  return spawnSync(
    cli,
    [...cliArgs, '-f', repoPath('deploy/docker-compose.yml'), '--env-file', join(envDir, '.env'), ...args],
    { encoding: 'utf8', env: { ...callerEnv, ...stack.env }, maxBuffer: 64 * 1024 * 1024 },
  );
}

function compose(...args: string[]): string {
  const res = composeRun(...args);
  if (res.status !== 0) throw new Error(`compose ${args.join(' ')} failed:\n${res.stderr}`);
  return res.stdout;
}

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const lines = (s: string) => s.split('\n').filter(Boolean);
const serviceContainers = (status: string) =>
  lines(
    docker(
      'ps',
      '-aq',
      '--filter',
      `label=${LB_LABELS.service}=${stack.service}`,
      '--filter',
      `status=${status}`,
    ),
  );
const logs = () => composeRun('logs', '--no-color', '--tail', '30', 'autoscaler', 'load-balancer').stdout;

async function backends() {
  const res = await fetch(`http://127.0.0.1:${stack.ports.admin}/api/backends`);
  return backendListSchema.parse(await res.json());
}

async function decisions() {
  const res = await fetch(`http://127.0.0.1:${stack.ports.autoscaler}/api/decisions`);
  return decisionListSchema.parse(await res.json()).decisions;
}

beforeAll(async () => {
  requireDocker();
  // the documented preparation of an offline machine (idempotent); its last line is the base image
  const prep = execFileSync('bash', [repoPath('deploy/offline-prep.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  stack = await stackEnv({
    BASE_IMAGE: lines(prep).at(-1) as string,
    BACKEND_CPUS: '0.25',
    AUTOSCALER_INTERVAL_MS: '1000',
  });
  delete stack.env.ADMIN_TOKEN;
  delete stack.env.GRAFANA_ADMIN_PASSWORD;
  // deploy/.env: the one setting, and an idle window short enough for a test
  envDir = mkdtempSync(join(tmpdir(), 'hr-s2z-compose-'));
  writeFileSync(join(envDir, '.env'), 'MIN_REPLICAS=0\nSCALE_TO_ZERO_AFTER_MS=4000\n');
  // the images of this checkout (layer cache hits when .ci/run or another test built them)
  compose('build', 'load-balancer', 'autoscaler', 'backend');
  compose('up', '-d', ...SERVICES);
  await waitFor(async () => (await backends()).backends.filter((b) => b.state === 'healthy').length === 2, {
    timeoutMs: 120_000,
    intervalMs: 500,
    message: `two healthy backends\n${logs()}`,
  });
}, 900_000);

afterAll(() => {
  if (!stack) return;
  try {
    composeRun('down', '-v', '--remove-orphans', '--timeout', '10');
  } finally {
    removeLabelled(OWNER_LABELS.service, stack.service);
    composeRun('down', '-v', '--remove-orphans', '--timeout', '10');
    spawnSync('docker', ['network', 'rm', stack.network], { stdio: 'ignore' });
    rmSync(envDir, { recursive: true, force: true });
  }
});

describe('compose stack: scale to zero with MIN_REPLICAS=0 in the env file', () => {
  it('puts both compose-started backends to sleep after the idle window, keeping one stopped', async () => {
    // the autoscaler is not restarting: it stays up and decides
    const sleeping = await waitFor(
      async () => {
        const list = await backends();
        return list.service?.state === 'sleeping' && serviceContainers('running').length === 0
          ? list
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: `the service sleeps\n${logs()}` },
    );
    expect(sleeping.service?.state).toBe('sleeping');
    const d = await decisions();
    expect(d.some((x) => x.reason === 'IdleScaleToZero')).toBe(true);
    // one of compose's containers kept, stopped, for a fast wake; the other removed
    const kept = serviceContainers('exited');
    expect(kept).toHaveLength(1);
    expect(docker('inspect', '-f', `{{index .Config.Labels "${OWNER_LABELS.managedBy}"}}`, kept[0]!)).toBe(
      OWNER_VALUE,
    );
    const autoscaler = compose('ps', '-q', 'autoscaler').trim();
    expect(docker('inspect', '-f', '{{.RestartCount}} {{.State.Status}}', autoscaler)).toBe('0 running');
  });

  it('holds the next request, wakes the service and answers it from a backend', async () => {
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${stack.ports.proxy}/load?ms=1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { instance: string }).instance).toBeTruthy();
    // held, not refused: the answer came once a backend was back (within HOLD_TIMEOUT_MS)
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(serviceContainers('running').length).toBeGreaterThanOrEqual(1);
    expect((await decisions()).some((x) => x.reason === 'WakeOnRequest')).toBe(true);
    await waitFor(async () => (await backends()).service?.state === 'awake', {
      timeoutMs: 10_000,
      message: 'the balancer reports the service awake',
    });
  });
});
