// `pnpm start` (scripts/start-local.mjs) as a user runs it: piped, or on a real
// pseudo-terminal (util-linux `script`) when the test is about what a terminal shows.
import { freePort } from '../free-port.js';
import { waitFor } from '../wait-for.js';
import { repoRoot, type ServiceProcess, startProcess } from './process.js';

export interface LocalStack extends ServiceProcess {
  proxy: string;
  /** The balancer's admin API. */
  admin: string;
  /** The autoscaler's admin API. */
  autoscaler: string;
}

export interface LocalStackOptions {
  /** Extra environment (REPLICAS, INTERVAL_MS, LOG_LEVEL…); `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Run it on a pseudo-terminal (stdin piped: type into `child.stdin`). */
  terminal?: boolean;
  /** Wait until this many backends are healthy at the balancer (default: none, return at once). */
  healthy?: number;
  readyTimeoutMs?: number;
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const [p, a, s] = [await freePort(), await freePort(), await freePort()];
  const env = {
    HOST: '127.0.0.1',
    PORT: String(p),
    ADMIN_PORT: String(a),
    AUTOSCALER_PORT: String(s),
    LOG_LEVEL: 'warn',
    OPEN_BROWSER: 'false',
    ...opts.env,
  };
  const script = `${repoRoot}scripts/start-local.mjs`;
  const proc = opts.terminal
    ? startProcess({
        command: 'script',
        args: ['-qfec', `exec '${process.execPath}' '${script}'`, '/dev/null'],
        env,
        name: 'start-local (terminal)',
        stdin: true,
      })
    : startProcess({ command: process.execPath, args: [script], env, name: 'start-local' });
  const stack = {
    ...proc,
    proxy: `http://127.0.0.1:${p}`,
    admin: `http://127.0.0.1:${a}`,
    autoscaler: `http://127.0.0.1:${s}`,
  };
  const want = opts.healthy;
  if (want !== undefined) {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`stack exited: ${proc.output()}`);
        const body = (await (await fetch(`${stack.admin}/api/backends`)).json()) as {
          backends: Array<{ state: string }>;
        };
        return body.backends.filter((b) => b.state === 'healthy').length >= want;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 60_000, intervalMs: 250, message: `${want} healthy backends` },
    );
  }
  return stack;
}
