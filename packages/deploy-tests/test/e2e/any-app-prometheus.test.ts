// Autoscale any app with Prometheus, from the compose stack's configuration (issue #25, "done
// when", second bullet): the labelled-services test's set-up (services/autoscaler/test/
// labelled-services.test.ts) with a real Prometheus between the balancer and the autoscaler.
//
// An app container that exports no metrics at all (its /metrics answers 404), labelled lb.* and
// autoscale.* with a concurrency target, behind the real balancer. A real Prometheus loads the
// repository's prometheus/prometheus.yml and prometheus/rules/headroom.rules.yml; the real
// autoscaler reads the recorded series through PROMETHEUS_URL. Under load the app scales out and
// each new replica serves through the balancer. A second labelled service, behind a balancer of
// its own scraped by the same Prometheus job, with light load of its own, keeps its one container.
//
// What the test changes in the compose configuration, and only that (the rules file is loaded
// byte for byte as checked in):
//  - headroom-balancer: its target `load-balancer:8081` (the compose service) becomes this test's
//    two balancers' admin ports on loopback; Prometheus runs on the host here.
//  - headroom-backends: the Docker discovery filter `lb.enable` becomes `lb.service=<the app>`
//    (another test's containers on this shared engine are not ours to scrape), and the network
//    `headroom` (compose's) becomes `bridge`, where these containers are. It scrapes the app's
//    /metrics as the stack would, and finds the 404.
//  - the jobs of the stack's other containers (autoscaler, node-exporter, cAdvisor, Prometheus
//    itself) are left out: nothing here runs them, and no rule reads them.
//  - global: scrape_interval and evaluation_interval are the file's; the testkit writes the rest.
//
// One autoscaler per service (SERVICE set): with SERVICE unset an autoscaler scales every
// autoscale.enable=true service on the engine, and other tests' labelled containers share it.
import { readFileSync } from 'node:fs';
import {
  type AutoscalerStatus,
  autoscalerStatusSchema,
  decisionListSchema,
  LB_LABELS,
  RECORDED_SERIES,
} from '@headroom/shared';
import {
  dockerBalancerEnv,
  ensureBaseImage,
  type RunningAutoscaler,
  type RunningBalancer,
  type RunningPrometheus,
  removeRun,
  removeServiceContainers,
  requireDocker,
  runAnyApp,
  runningReplicas,
  startAutoscaler,
  startBalancer,
  startPrometheus,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { repoPath } from '../../src/repo-files.js';

const run = testRunId('anyapp-prom');
const APP = `${run}-app`;
const OTHER = `${run}-other`;

interface ScrapeJob {
  job_name: string;
  static_configs?: { targets: string[] }[];
  docker_sd_configs?: { filters?: { name: string; values: string[] }[] }[];
  relabel_configs?: { replacement?: string; target_label?: string }[];
  [key: string]: unknown;
}

/** The compose stack's prometheus.yml, pointed at this test's balancers and app (see the top). */
function composeScrapeConfig(balancerAdmins: string[]): { yaml: string; scrape: number; evaluation: number } {
  const file = parse(readFileSync(repoPath('prometheus/prometheus.yml'), 'utf8')) as {
    global: { scrape_interval: string; evaluation_interval: string };
    scrape_configs: ScrapeJob[];
  };
  const job = (name: string) => {
    const j = file.scrape_configs.find((s) => s.job_name === name);
    if (!j) throw new Error(`prometheus/prometheus.yml has no ${name} job`);
    return j;
  };
  const balancer = job('headroom-balancer');
  balancer.static_configs = [{ targets: balancerAdmins.map((a) => new URL(a).host) }];
  const backends = job('headroom-backends');
  for (const sd of backends.docker_sd_configs ?? [])
    for (const f of sd.filters ?? []) if (f.name === 'label') f.values = [`${LB_LABELS.service}=${APP}`];
  for (const r of backends.relabel_configs ?? [])
    if (r.target_label === '__tmp_network' && r.replacement === 'headroom') r.replacement = 'bridge';
  const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? Number.NaN);
  const yaml = stringify([backends, balancer])
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return {
    yaml,
    scrape: seconds(file.global.scrape_interval),
    evaluation: seconds(file.global.evaluation_interval),
  };
}

/** `clients` loops of requests through `proxy`; every instance that answered, every failure. */
function load(proxy: string, clients: number) {
  let on = true;
  const served = new Set<string>();
  const failures: string[] = [];
  const done = Promise.all(
    Array.from({ length: clients }, async () => {
      while (on) {
        try {
          const res = await fetch(`${proxy}/`);
          if (res.status === 200) served.add(((await res.json()) as { instance: string }).instance);
          else failures.push(`HTTP ${res.status}: ${await res.text()}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    }),
  );
  return {
    served,
    failures,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

let prom: RunningPrometheus | undefined;
let lbApp: RunningBalancer | undefined;
let lbOther: RunningBalancer | undefined;
let scalerApp: RunningAutoscaler | undefined;
let scalerOther: RunningAutoscaler | undefined;

beforeAll(async () => {
  requireDocker();
  ensureBaseImage();
  for (const [service, max] of [
    [APP, '3'],
    [OTHER, '2'],
  ] as const)
    runAnyApp({
      run,
      service,
      autoscale: { 'autoscale.min': '1', 'autoscale.max': max, 'autoscale.target.concurrency': '2' },
    });
  const balancer = (service: string) => startBalancer(dockerBalancerEnv(service));
  [lbApp, lbOther] = await Promise.all([balancer(APP), balancer(OTHER)]);
  const cfg = composeScrapeConfig([lbApp.admin, lbOther.admin]);
  prom = await startPrometheus({
    scrapeConfigsYaml: cfg.yaml,
    rules: [readFileSync(repoPath('prometheus/rules/headroom.rules.yml'), 'utf8')],
    scrapeIntervalSeconds: cfg.scrape,
    evaluationIntervalSeconds: cfg.evaluation,
  });
  const autoscaler = (service: string, lb: RunningBalancer, p: RunningPrometheus) =>
    startAutoscaler({
      RUNTIME: 'docker',
      SERVICE: service,
      PROMETHEUS_URL: p.url,
      LB_ADMIN_URL: lb.admin,
      // other tests' containers book this shared engine's CPU at the same time: not about capacity
      CPU_OVERCOMMIT: '16',
      INTERVAL_MS: '1000',
      SCALE_DOWN_WINDOW_MS: '600000',
      DRAIN_TIMEOUT_MS: '2000',
      STOP_GRACE_SECONDS: '1',
      LOG_LEVEL: 'info',
    });
  [scalerApp, scalerOther] = await Promise.all([
    autoscaler(APP, lbApp, prom),
    autoscaler(OTHER, lbOther, prom),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([scalerApp?.stop(), scalerOther?.stop()]);
  await Promise.all([lbApp?.stop(), lbOther?.stop(), prom?.stop()]);
  removeRun(run);
  // the replicas the autoscalers made, whatever labels they copied
  for (const service of [APP, OTHER]) removeServiceContainers(service);
});

describe('autoscale any app with Prometheus, from the compose configuration', () => {
  it('scales the app out on the recorded concurrency; every new replica serves; the second service keeps its count', async () => {
    if (!prom || !lbApp || !lbOther || !scalerApp || !scalerOther) throw new Error('set-up failed');
    const p = prom;
    // the app's /metrics is a 404, and Prometheus, scraping it as the stack would, says so
    const probe = await fetch(`${lbApp.proxy}/metrics`);
    expect(probe.status).toBe(404);
    await probe.arrayBuffer();
    await waitFor(
      async () => {
        const up = await p.query(`up{job="headroom-backends",service="${APP}"}`);
        return up.length > 0 && up.every((s) => s.value[1] === '0');
      },
      { timeoutMs: 20_000, message: "Prometheus scraped the app's /metrics and found nothing (up 0)" },
    );

    // 8 clients, 300 ms a request: ~8 in flight on one replica against a target of 2; the other
    // service: one client, ~1 in flight against 2, so it needs no more than its one
    const heavy = load(lbApp.proxy, 8);
    const light = load(lbOther.proxy, 1);
    // the second service's containers, sampled throughout the app's scale-out
    const otherCounts = new Set<number>();
    const sampleOther = async () => otherCounts.add((await runningReplicas(OTHER)).length);
    let appReplicas: string[] = [];
    let other: AutoscalerStatus | undefined;
    try {
      // the recorded concurrency, built on the balancer's per-replica signals only
      await waitFor(
        async () => {
          const v = await p.query(`${RECORDED_SERIES.replicaConcurrency}{service="${APP}"}`);
          return v.some((s) => Number(s.value[1]) > 2);
        },
        { timeoutMs: 20_000, message: 'the recording rule reads the app over its target' },
      );
      await waitFor(
        async () => {
          await sampleOther();
          return (await runningReplicas(APP)).filter((c) => c.owned).length >= 2;
        },
        {
          timeoutMs: 45_000,
          intervalMs: 250,
          message: `the app scaled out to 3 (${scalerApp.output().slice(-1500)})`,
        },
      );
      appReplicas = (await runningReplicas(APP)).filter((c) => c.owned).map((c) => c.name);
      // each new replica answers through the balancer (its hostname is its container name)
      await waitFor(
        async () => {
          await sampleOther();
          return appReplicas.every((r) => heavy.served.has(r));
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      ).catch(async (err: Error) => {
        const view = await (await fetch(`${lbApp?.admin}/api/backends`)).text();
        throw new Error(
          `${err.message}: every new replica served a request (${appReplicas.join(', ')} vs ${[...heavy.served].join(', ')}); the balancer: ${view}`,
        );
      });
      // while its own light load still runs: the second service's autoscaler reads its own
      // recorded concurrency (about 1, under its target of 2), not the app's
      other = autoscalerStatusSchema.parse(await (await fetch(`${scalerOther.admin}/api/status`)).json());
    } finally {
      await Promise.all([heavy.stop(), light.stop()]);
    }
    expect(heavy.failures).toEqual([]);
    expect(light.failures).toEqual([]);
    expect(appReplicas.length).toBe(2);

    // the app's autoscaler scaled on what Prometheus recorded (not a hold on missing data)
    const appDecisions = decisionListSchema.parse(
      await (await fetch(`${scalerApp.admin}/api/decisions?service=${APP}`)).json(),
    ).decisions;
    const scaledUp = appDecisions.find((d) => d.action === 'scale-up');
    expect(scaledUp?.metrics.find((m) => m.metric === 'concurrency')?.value).toBeGreaterThan(2);

    // the second service kept its own count throughout: its one container, none made
    await sampleOther();
    expect([...otherCounts]).toEqual([1]);
    expect(await runningReplicas(OTHER)).toEqual([{ name: `${OTHER}-web`, owned: false }]);
    expect(other).toMatchObject({ service: OTHER, current: 1, desired: 1, holdReason: null });
    const otherConcurrency = other?.lastMetrics.find((m) => m.metric === 'concurrency')?.value;
    expect(otherConcurrency).toBeGreaterThan(0);
    expect(otherConcurrency).toBeLessThanOrEqual(2);
    const otherDecisions = decisionListSchema.parse(
      await (await fetch(`${scalerOther.admin}/api/decisions?service=${OTHER}`)).json(),
    ).decisions;
    expect(otherDecisions.filter((d) => d.action === 'scale-up')).toEqual([]);
  });
});
