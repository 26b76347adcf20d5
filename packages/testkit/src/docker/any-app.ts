// "Any app" for the autoscale-from-labels tests: a container that knows nothing of Headroom
// (every request takes 300 ms, its /metrics is a 404), labelled lb.* and autoscale.*, with the
// balancer in front of its service by Docker discovery, and what the engine says of its replicas.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AUTOSCALE_LABELS, LB_LABELS, OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import { type LabelledContainer, lbLabels, runNodeScript } from './labelled.js';

/** An app that knows nothing of Headroom: every request takes 300 ms, /metrics is a 404. */
export const ANY_APP_SCRIPT = `
const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/metrics') { res.statusCode = 404; res.end('no metrics here'); return; }
  setTimeout(() => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ instance: require('os').hostname() })); }, 300);
}).listen(3000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

export interface AnyAppOptions {
  run: string;
  service: string;
  /** autoscale.* labels beside autoscale.enable=true (full label names), e.g. autoscale.max. */
  autoscale: Record<string, string>;
}

/** `<service>-web`: the app (0.25 CPU, 64 MiB), one of `service`'s backends, autoscale enabled. */
export function runAnyApp(opts: AnyAppOptions): LabelledContainer {
  return runNodeScript({
    run: opts.run,
    name: `${opts.service}-web`,
    script: ANY_APP_SCRIPT,
    labels: lbLabels(opts.service, 3000, { [AUTOSCALE_LABELS.enable]: 'true', ...opts.autoscale }),
    flags: ['--cpus', '0.25', '--memory', '64m'],
  });
}

/** The balancer's variables for one service's containers on the host engine (fast health checks, no slow start). */
export function dockerBalancerEnv(
  service: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    DISCOVERY: 'docker',
    LB_SERVICE: service,
    DOCKER_ADDRESS: 'network',
    HEALTH_INTERVAL_MS: '300',
    SLOW_START_MS: '0',
    ...extra,
  };
}

const execFileAsync = promisify(execFile);

/** A service's running containers: name, and whether an autoscaler made it (async: load may run meanwhile). */
export async function runningReplicas(service: string): Promise<{ name: string; owned: boolean }[]> {
  const { stdout } = await execFileAsync('docker', [
    'ps',
    '--filter',
    `label=${LB_LABELS.service}=${service}`,
    '--filter',
    'status=running',
    '--format',
    `{{.Names}}\t{{.Label "${OWNER_LABELS.managedBy}"}}`,
  ]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', owner = ''] = line.split('\t');
      return { name, owned: owner === OWNER_VALUE };
    });
}
