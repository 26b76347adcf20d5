// Keeps the error catalogues the one home of error codes, and docs/errors.md true to them:
// every code a catalogue defines is explained there and every code there exists, and no other
// source file (tests aside: they assert codes) spells one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const CATALOGUES = [
  'packages/shared/src/errors.ts',
  'services/load-balancer/src/errors.ts',
  'services/autoscaler/src/errors.ts',
  'services/backend/src/errors.ts',
];
// LB_ERR_*, AS_ERR_*, BACKEND_ERR_*, HEADROOM_ERR_*: the services' prefixes
const CODE = /\b(?:LB|AS|BACKEND|HEADROOM)_ERR_[A-Z0-9_]+\b/g;
const QUOTED = /['"`]((?:LB|AS|BACKEND|HEADROOM)_ERR_[A-Z0-9_]+)['"`]/g;

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'test') yield* sourceFiles(path);
    } else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !/\.test\.tsx?$/.test(name)) yield path;
  }
}

const catalogueCodes = () =>
  new Set(
    CATALOGUES.flatMap((f) => [...readFileSync(join(root, f), 'utf8').matchAll(QUOTED)].map((m) => m[1]!)),
  );

/** Codes in the first cell of docs/errors.md's table rows. */
const documentedCodes = () =>
  new Set(
    readFileSync(join(root, 'docs/errors.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => (l.split('|')[1] ?? '').match(CODE) ?? []),
  );

describe('error catalogues', () => {
  it('docs/errors.md explains every catalogued code, and names none that does not exist', () => {
    const defined = catalogueCodes();
    const documented = documentedCodes();
    expect(defined.size).toBeGreaterThan(20);
    expect([...defined].filter((c) => !documented.has(c)).sort(), 'catalogued, not documented').toEqual([]);
    expect([...documented].filter((c) => !defined.has(c)).sort(), 'documented, not catalogued').toEqual([]);
  });

  it('no source file outside the catalogues spells an error code', () => {
    const offenders: string[] = [];
    for (const top of ['services', 'apps', 'packages', 'scripts', 'bench']) {
      for (const file of sourceFiles(join(root, top))) {
        const rel = file.slice(root.length);
        if (CATALOGUES.includes(rel)) continue;
        for (const m of readFileSync(file, 'utf8').matchAll(QUOTED)) offenders.push(`${rel}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
