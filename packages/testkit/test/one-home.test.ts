// The testkit is the one home for test set-up (issue #27): no test file (nor test helper) outside packages/testkit
// spawns a Headroom service (its dist/main.js, scripts/start-local.mjs) or creates a container
// with the balancer's labels (`docker run … --label lb.*`, dockerode's createContainer with
// LB_LABELS) itself. Read from the test files' text, so a new one that does fails here, with the
// helper to use instead, rather than in review.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/index.js';

const ROOTS = ['services', 'apps', 'packages', 'bench', 'scripts'];
const SKIP = new Set(['node_modules', 'dist', '.git']);

/** Test files, and the helpers beside them (any .ts/.mjs under a test/ folder). */
function testFiles(dir: string, inTest = false): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : testFiles(p, inTest || e.name === 'test');
    return /\.test\.tsx?$/.test(e.name) || (inTest && /\.(ts|mjs)$/.test(e.name)) ? [p] : [];
  });
}

/** The text of the call whose argument list opens at `open` (a '('), up to its matching ')'. */
function callText(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length && i < open + 4000; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open, i + 1);
  }
  return text.slice(open, open + 4000);
}

/** The innermost call or array literal holding `at`, and (for an array: argv built by pushes) what follows it. */
function enclosing(text: string, at: number): string {
  let depth = 0;
  for (let i = at; i >= 0 && i > at - 4000; i--) {
    if (text[i] === ')' || text[i] === ']') depth++;
    else if ((text[i] === '(' || text[i] === '[') && depth-- === 0) {
      if (text[i] === '(') return callText(text, i);
      return text.slice(i, at + 1200);
    }
  }
  return '';
}

const SERVICE_ENTRY = /dist\/main\.js|start-local\.mjs|services\/(load-balancer|autoscaler|backend)\//;
const LB_LABEL = /LB_LABELS\.|['"`]lb\.(enable|service|port)|lbLabels\(/;

/** What a test file does that only the testkit may: one line each, with the line number. */
export function violations(text: string): string[] {
  const out: string[] = [];
  const line = (i: number) => text.slice(0, i).split('\n').length;
  for (const m of text.matchAll(/\b(spawn|spawnSync|execFile|execFileSync|exec|execSync|fork)\s*\(/g)) {
    const call = callText(text, m.index + m[0].length - 1);
    if (SERVICE_ENTRY.test(call))
      out.push(
        `${line(m.index)}: ${m[1]}() of a service: use startBalancer/startAutoscaler/startBackend/runUntilExit/startLocalStack`,
      );
  }
  for (const m of text.matchAll(/createContainer\s*\(/g)) {
    if (LB_LABEL.test(callText(text, m.index + m[0].length - 1)))
      out.push(`${line(m.index)}: createContainer() with lb.* labels: use runLabelled/runGaugeReplica`);
  }
  // `docker run`/`docker create` as argv: lb.* labels named inline, or pushed from a map
  // (Object.entries(labels) … '--label') in a file that builds lb.* labels
  const buildsLbLabels = LB_LABEL.test(text);
  for (const m of text.matchAll(/[([]\s*['"](run|create)['"]\s*,|docker run /g)) {
    const argv = enclosing(text, m.index + m[0].indexOf(m[1] ?? 'docker'));
    if (LB_LABEL.test(argv) || (buildsLbLabels && /Object\.entries\([\s\S]{0,80}?['"]--label['"]/.test(argv)))
      out.push(`${line(m.index)}: docker ${m[1] ?? 'run'} with lb.* labels: use runLabelled/runGaugeReplica`);
  }
  return out;
}

describe('one home for test set-up', () => {
  const files = ROOTS.flatMap((r) => testFiles(join(repoRoot, r)))
    .map((f) => relative(repoRoot, f))
    .filter((f) => !f.startsWith('packages/testkit/'));

  it('no test file outside packages/testkit spawns a service or runs a labelled container', () => {
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) =>
      violations(readFileSync(join(repoRoot, f), 'utf8')).map((v) => `${f}:${v}`),
    );
    expect(found).toEqual([]);
  });

  it('recognises each way of doing it (the rule is not vacuous)', () => {
    const spawnLb = `const p = spawnSync(process.execPath, [new URL('../dist/main.js', import.meta.url).pathname], {});`;
    const stack = `spawn(process.execPath, [\`\${root}scripts/start-local.mjs\`])`;
    const dockerode = `await docker.createContainer({ Image: i, Labels: { [LB_LABELS.service]: s } });`;
    const cli = `docker('run', '-d', '--label', 'lb.enable=true', image)`;
    const fine = `spawnSync('promtool', ['check']); docker('run', '--rm', image); createContainer({ Labels: { x: '1' } });`;
    expect(violations(spawnLb)).toHaveLength(1);
    expect(violations(stack)).toHaveLength(1);
    expect(violations(dockerode)).toHaveLength(1);
    expect(violations(cli)).toHaveLength(1);
    expect(violations(fine)).toEqual([]);
  });
});
