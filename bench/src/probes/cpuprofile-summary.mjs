// Self and inclusive time by function of a .cpuprofile (node --cpu-prof), idle and busy totals:
//   node bench/src/probes/cpuprofile-summary.mjs <file.cpuprofile> [rows]
import { readFileSync } from 'node:fs';

const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
const incl = new Map();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i] ?? 0;
  total += dt;
  const n = byId.get(p.samples[i]);
  const key = (n) =>
    `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
  self.set(key(n), (self.get(key(n)) ?? 0) + dt);
  const seen = new Set();
  let id = n.id;
  while (id !== undefined) {
    const k = key(byId.get(id));
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
    id = parent.get(id);
  }
}
const say = (...xs) => process.stdout.write(`${xs.join(' ')}\n`);
const idle = self.get('(idle) :-1') ?? 0;
say(
  `total ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s, busy ${((total - idle) / 1e6).toFixed(2)} s`,
);
const n = Number(process.argv[3] ?? 25);
say('-- self');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, n))
  say((v / 1e3).toFixed(0).padStart(7), 'ms', k);
say('-- inclusive');
for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, n))
  say((v / 1e3).toFixed(0).padStart(7), 'ms', k);
