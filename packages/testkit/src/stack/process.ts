// A child process a test owns: its output kept (for failure messages and log assertions), a
// wait on a line it prints, a clean stop (SIGTERM, then SIGKILL after a grace), and a kill on
// the test process' exit, so that a failed or interrupted test leaves no service running.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../wait-for.js';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Waits until the output contains `pattern` (a string, or a regexp tested on the whole output). */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

export interface StartProcessOptions {
  command: string;
  args: string[];
  /** Replaces variables of the test's own environment; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** A name for messages. */
  name?: string;
  /** stdin as a pipe (default: ignored). */
  stdin?: boolean;
}

const running = new Set<ChildProcess>();
let exitHook = false;

function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

export function startProcess(opts: StartProcessOptions): ServiceProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v;
  const child = spawn(opts.command, opts.args, {
    env,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const name = opts.name ?? opts.args.at(-1) ?? opts.command;
  const proc: ServiceProcess = {
    child,
    output: () => out,
    exited,
    async waitForOutput(pattern, timeoutMs = 15_000) {
      const seen = () => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      await waitFor(seen, {
        timeoutMs,
        message: `${name} prints ${String(pattern)}`,
        signal: abortOnExit(proc, name),
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- output of ${name}\n${out.slice(-4000)}`);
      });
    },
    async stop(graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM') {
      if (hasExited(child)) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return proc;
}

/**
 * Aborts, with the exit, once the process exits: a wait for something only a running process
 * can bring gives up then, not at its timeout (a check that throws on the exit is only retried
 * until the timeout). It aborts once the process' pipes close, so that the output the caller
 * adds to the message has the process' last words.
 */
function abortOnExit(proc: ServiceProcess, what: string): AbortSignal {
  const ac = new AbortController();
  void proc.exited.then(async () => {
    const { child } = proc;
    const open = [child.stdout, child.stderr].filter((s) => s && !s.closed);
    // a grandchild holding the pipes open must not hold the report back
    await Promise.race([Promise.all(open.map((s) => once(s!, 'close'))), sleep(1000)]);
    const how = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
    ac.abort(new Error(`${what} exited (${how})`));
  });
  return ac.signal;
}

/** Polls `url` until it answers 2xx; fails at once, with the output, when the process exits. */
export async function waitReady(
  proc: ServiceProcess,
  url: string,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(async () => (await fetch(url)).ok, {
    timeoutMs,
    intervalMs: 100,
    message: `${what} ready at ${url}`,
    signal: abortOnExit(proc, what),
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- output of ${what}\n${proc.output().slice(-4000)}`);
  });
}
