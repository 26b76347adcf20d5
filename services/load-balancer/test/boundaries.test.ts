// The rooms' import rules (issue #24), read from the source: the balancing core imports no
// proxy, discovery, admin or routing; discovery imports no proxy, health, resources or
// balancing; the backends/ stage knows no source (discovery) and no API; routing does no I/O
// (no node: module, no network or file library). A change that breaks one fails here with the
// file and the import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.includes('.test-')) yield path;
  }
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The room (top folder under src/) a relative import lands in, or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const abs = join(file, '..', spec);
  return relative(src, abs).split('/')[0]!.replace(/\.js$/, '');
}

function violations(room: string, forbidden: (t: string) => boolean): string[] {
  const out: string[] = [];
  for (const file of files(join(src, room))) {
    for (const spec of importsOf(file)) {
      if (forbidden(target(file, spec))) out.push(`${relative(src, file)} imports ${spec}`);
    }
  }
  return out;
}

describe('room boundaries', () => {
  it('finds the imports it checks (the reader works)', () => {
    expect(importsOf(join(src, 'routing/route-table.ts'))).toContain('./host.js');
    expect(target(join(src, 'discovery/static-source.ts'), '../model/short-hash.js')).toBe('model');
  });

  it('balancing/ imports no proxy, discovery, admin or routing', () => {
    const no = new Set(['proxy', 'discovery', 'admin', 'routing']);
    expect(violations('balancing', (t) => no.has(t))).toEqual([]);
  });

  it('discovery/ imports no proxy, health, resources or balancing', () => {
    const no = new Set(['proxy', 'health', 'resources', 'balancing']);
    expect(violations('discovery', (t) => no.has(t))).toEqual([]);
  });

  it('backends/ imports no discovery, admin, routing or tls: it takes sets, whatever their source', () => {
    const no = new Set(['discovery', 'admin', 'routing', 'tls']);
    expect(violations('backends', (t) => no.has(t))).toEqual([]);
  });

  it('routing/ does no I/O: no node: module, no network, file or process library', () => {
    const io = (t: string) =>
      t.startsWith('node:') ||
      [
        'undici',
        'fastify',
        'prom-client',
        'pino',
        'fs',
        'net',
        'http',
        'https',
        'tls',
        'dgram',
        'child_process',
      ].includes(t) ||
      ['proxy', 'discovery', 'admin', 'health', 'resources', 'hold', 'telemetry'].includes(t);
    expect(violations('routing', io)).toEqual([]);
  });
});
