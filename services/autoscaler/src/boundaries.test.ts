// The tick's four places keep their lanes (issue #25): policy/ and placement/ are pure (no act,
// observe or clients, no Node built-in, no I/O library), act/ runs plans and imports neither
// policy nor placement, observe/ imports no act. Read from the source files' import lines, so a
// new import across a line fails here, not in review.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('.', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every module a file imports (static `import … from`, `export … from`, dynamic `import()`). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The top folder of src/ an import lands in ('act', 'observe', …), or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const rel = relative(SRC, resolve(join(file, '..'), spec)).split(/[\\/]/);
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.js$/, '');
}

const files = sourceFiles(SRC).map((f) => ({
  folder: relative(SRC, f).split(/[\\/]/)[0]!,
  name: relative(SRC, f),
  targets: importsOf(readFileSync(f, 'utf8')).map((s) => target(f, s)),
}));

/** What each folder must not import. */
const RULES: Record<string, { forbidden: (t: string) => boolean; why: string }> = {
  policy: {
    forbidden: (t) =>
      ['act', 'observe', 'clients', 'loop', 'main', 'admin'].includes(t) ||
      t.startsWith('node:') ||
      ['undici', 'dockerode', 'fastify', 'prom-client'].includes(t),
    why: 'policy/ is pure: no act, observe, clients or I/O',
  },
  placement: {
    forbidden: (t) =>
      ['act', 'observe', 'clients', 'loop', 'main', 'admin'].includes(t) ||
      t.startsWith('node:') ||
      ['undici', 'dockerode', 'fastify', 'prom-client'].includes(t),
    why: 'placement/ is pure: no act, observe, clients or I/O',
  },
  act: {
    forbidden: (t) => ['policy', 'placement', 'loop', 'main'].includes(t),
    why: 'act/ runs plans: it imports no policy or placement',
  },
  observe: {
    forbidden: (t) => ['act', 'loop', 'main'].includes(t),
    why: 'observe/ imports no act',
  },
};

describe('boundaries of the tick', () => {
  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(importsOf("import { a } from './x.js';\nexport type { B } from '../y.js';")).toEqual([
      './x.js',
      '../y.js',
    ]);
  });

  for (const [folder, rule] of Object.entries(RULES)) {
    it(`${folder}/: ${rule.why}`, () => {
      const inFolder = files.filter((f) => f.folder === folder);
      expect(inFolder.length).toBeGreaterThan(0);
      const crossings = inFolder.flatMap((f) =>
        f.targets.filter(rule.forbidden).map((t) => `${f.name} → ${t}`),
      );
      expect(crossings).toEqual([]);
    });
  }

  it('the four steps have one home each', () => {
    const names = files.map((f) => f.name);
    for (const step of [
      'observe/observer.ts',
      'policy/decide-tick.ts',
      'placement/plan-tick.ts',
      'act/run-plan.ts',
    ])
      expect(names).toContain(step);
  });
});
