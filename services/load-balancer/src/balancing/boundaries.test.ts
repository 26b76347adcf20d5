// The balancing core is pure (README › Architecture, docs/architecture.md): it never talks to
// Docker or the network. Read from the import lines of src/balancing/ (and the model it uses),
// so an import of discovery/, proxy/, an engine client or a Node I/O module fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !/\.test(-helper)?\.ts$/.test(e.name) ? [p] : [];
  });
}

function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

const files = ['balancing', 'model'].flatMap((dir) => sourceFiles(join(SRC, dir)));

describe('the balancing core imports nothing that does I/O', () => {
  it('finds its source files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [relative(SRC, f), f] as const))('%s', (_name, file) => {
    const bad = importsOf(readFileSync(file, 'utf8')).filter((spec) => {
      if (spec.startsWith('.')) {
        const top = relative(SRC, resolve(join(file, '..'), spec)).split(/[\\/]/)[0]!;
        return top !== 'balancing' && top !== 'model';
      }
      // the shared package's types and pure helpers only; no Node built-in, no HTTP or engine client
      return spec !== '@headroom/shared';
    });
    expect(bad).toEqual([]);
  });
});
