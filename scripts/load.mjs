#!/usr/bin/env node
// `node scripts/load.mjs [rate] [seconds] [url]`: the README walkthrough's load. Sends `rate`
// requests per second (default 12) of /load?ms=20 through the local proxy, whatever the
// answers do (open loop, like real users), for `seconds` (default 120) or until Ctrl-C, and
// prints once a second: rate, p50/p99 latency, failures and each backend's share.
// Bounded: at most 200 requests in flight, only the URL given.
import { between, openLoop, quantile, shares } from './open-loop.mjs';

const rate = Number(process.argv[2] ?? 12);
const seconds = Number(process.argv[3] ?? 120);
const url = process.argv[4] ?? 'http://127.0.0.1:8080/load?ms=20';
if (!(rate > 0 && rate <= 1000) || !(seconds > 0 && seconds <= 3600)) {
  console.error('usage: node scripts/load.mjs [rate 1..1000 per s] [seconds 1..3600] [url]');
  process.exit(2);
}

const load = openLoop({ url, rate, maxInFlight: 200, maxRequests: Math.ceil(rate * seconds) });
let last = 0;
const report = () => {
  const now = load.now();
  const window = between(load.samples, last, now);
  last = now;
  const ms = window.map((s) => s.ms);
  const failed = window.filter((s) => s.status !== 200).length;
  const share = Object.entries(shares(window))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, f]) => `${name} ${Math.round(f * 100)}%`)
    .join('  ');
  process.stdout.write(
    `${(now / 1000).toFixed(0).padStart(4)} s  ${window.length} req  p50 ${quantile(ms, 0.5).toFixed(0)} ms  p99 ${quantile(ms, 0.99).toFixed(0)} ms  failed ${failed}  skipped ${load.skipped}  ${share}\n`,
  );
};
const timer = setInterval(report, 1000);
const finish = async () => {
  clearInterval(timer);
  await load.stop();
  report();
  const failed = load.samples.filter((s) => s.status !== 200).length;
  process.stdout.write(
    `done: ${load.samples.length} requests, ${failed} failed, ${load.skipped} not sent (200 in flight)\n`,
  );
  process.exit(0);
};
process.on('SIGINT', finish);
setTimeout(finish, seconds * 1000);
