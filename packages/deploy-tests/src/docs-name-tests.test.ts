// Every test file the README and the docs name as the proof of a behaviour exists: a renamed or
// deleted test leaves no sentence pointing at nothing (docs/operations.md's behaviour-to-test map
// above all). A bare file name must match a test file somewhere in the repository; a path must
// exist as written.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath, repoRoot } from './repo-files.js';

const DOCS = [
  'README.md',
  ...readdirSync(repoPath('docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...['services', 'packages', 'apps'].flatMap((top) =>
    readdirSync(repoPath(top))
      .map((d) => `${top}/${d}/README.md`)
      .filter((f) => existsSync(repoPath(f))),
  ),
];

function* testFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* testFiles(path);
    else if (/\.test\.tsx?$/.test(name)) yield path;
  }
}

const known = new Set<string>();
for (const top of ['services', 'packages', 'apps', 'bench', 'scripts']) {
  for (const file of testFiles(repoPath(top))) known.add(basename(file));
}

describe('docs name only tests that exist', () => {
  it.each(DOCS)('%s', (doc) => {
    const text = readFileSync(repoPath(doc), 'utf8');
    const named = new Set(text.match(/[A-Za-z0-9_./*-]+\.test\.tsx?/g) ?? []);
    const missing = [...named].filter((name) => {
      if (name.includes('*')) return false; // a glob describes a tier, not one file
      return name.includes('/') ? !existsSync(join(repoRoot, name)) : !known.has(name);
    });
    expect(missing, `${doc} names tests that do not exist`).toEqual([]);
  });
});
