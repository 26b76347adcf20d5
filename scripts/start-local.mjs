#!/usr/bin/env node
// `pnpm start`: the embedded stack, no Docker needed. Starts the load balancer (static
// discovery, backends registered through its admin API) and the autoscaler in its
// `local` runtime, which starts the stress backends as child processes on free ports
// and registers them with the balancer. Ctrl-C stops everything gracefully.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BALANCER_NODE_OPTIONS } from '../packages/shared/dist/node-options.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const host = env.HOST ?? '127.0.0.1';
const proxyPort = env.PORT ?? '8080';
const adminPort = env.ADMIN_PORT ?? '8081';
const autoscalerPort = env.AUTOSCALER_PORT ?? '8082';
// a second app beside the autoscaled one, to show routes: /docs goes to it (prefix stripped)
const docsPort = env.DOCS_PORT ?? '8083';
const replicas = env.REPLICAS ?? '3';
const shown = host === '0.0.0.0' ? 'localhost' : host;
const adminUrl = `http://${shown}:${adminPort}`;
const autoscalerUrl = `http://${shown}:${autoscalerPort}`;

const children = [];
let stopping = false;

function start(name, env) {
  const child = spawn(process.execPath, [`${root}services/${name}/dist/main.js`], {
    // readable lines for a person at a terminal, JSON lines for a pipe or a log collector;
    // LOG_PRETTY set (non-empty) wins either way
    env: {
      LOG_LEVEL: 'info',
      ...process.env,
      LOG_PRETTY: process.env.LOG_PRETTY || (process.stdout.isTTY ? 'true' : 'false'),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`start-local: ${name} exited (${signal ?? code}); stopping the stack`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitHealthy(url, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become healthy at ${url}`);
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // autoscaler first, so it drains and stops its backends while the balancer still runs
  for (const child of [...children].reverse()) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 15_000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  process.exit(code);
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

try {
  start('backend', { HOST: '127.0.0.1', PORT: docsPort, INSTANCE_ID: 'docs' });
  await waitHealthy(`http://127.0.0.1:${docsPort}/health`, 'docs backend');
  start('load-balancer', {
    HOST: host,
    PORT: proxyPort,
    ADMIN_PORT: adminPort,
    DISCOVERY: 'static',
    // the docs app owns /docs; the autoscaled backends (registered without routes) are the catch-all
    BACKENDS: `http://127.0.0.1:${docsPort}#service=docs&path=/docs&strip=true`,
    METRICS_SOURCE: 'backend',
    // the stress backend answers /health (503 while it shuts down): keep the HTTP check,
    // not the balancer's TCP default
    HEALTH_PATH: '/health',
    AUTOSCALER_URL: autoscalerUrl,
    // the heap settings the image runs the balancer with, unless NODE_OPTIONS is set
    NODE_OPTIONS: process.env.NODE_OPTIONS || BALANCER_NODE_OPTIONS,
  });
  await waitHealthy(`${adminUrl}/healthz`, 'load balancer');
  start('autoscaler', {
    // its admin API (pause, wake) stays on loopback without a token, like the balancer's
    HOST: env.ADMIN_TOKEN || env.ADMIN_TOKEN_FILE ? host : '127.0.0.1',
    ADMIN_PORT: autoscalerPort,
    RUNTIME: 'local',
    SERVICE: 'backend',
    MIN_REPLICAS: replicas,
    MAX_REPLICAS: env.MAX_REPLICAS ?? '6',
    INTERVAL_MS: env.INTERVAL_MS ?? '2000',
    LB_ADMIN_URL: adminUrl,
    CLEANUP_ON_EXIT: 'true',
  });
  await waitHealthy(`${autoscalerUrl}/healthz`, 'autoscaler');
  process.stdout.write(
    [
      '',
      `  Headroom is up (embedded: ${replicas} local backends, no Docker)`,
      `  dashboard   ${adminUrl}/`,
      `  proxy       http://${shown}:${proxyPort}/   (try: curl http://${shown}:${proxyPort}/load?ms=50)`,
      `  second app  http://${shown}:${proxyPort}/docs/   (its own service and pool; routes: ${adminUrl}/api/services)`,
      `  autoscaler  ${autoscalerUrl}/api/status`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n') + '\n',
  );
  if (
    env.OPEN_BROWSER !== 'false' &&
    !env.CI &&
    process.stdout.isTTY &&
    (env.DISPLAY || process.platform === 'darwin')
  ) {
    const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
    spawn(opener, [`${adminUrl}/`], { stdio: 'ignore', detached: true })
      .on('error', () => {})
      .unref();
  }
} catch (err) {
  console.error(`start-local: ${err instanceof Error ? err.message : err}`);
  await stop(1);
}
