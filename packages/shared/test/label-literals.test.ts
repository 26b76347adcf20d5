// Keeps labels.ts the one home of label names: no other source file spells one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name)) yield path;
  }
}

describe('label names', () => {
  it('are spelled only in packages/shared/src/labels.ts', () => {
    const offenders: string[] = [];
    for (const top of ['services', 'apps', 'packages']) {
      for (const file of sourceFiles(join(root, top))) {
        if (file.endsWith('packages/shared/src/labels.ts')) continue;
        const text = readFileSync(file, 'utf8');
        if (
          /['"`](lb\.(enable|port|service|health\.path|weight|sticky|slowstart|network)|headroom\.(managed-by|service|replica))['"`]/.test(
            text,
          )
        ) {
          offenders.push(file.slice(root.length));
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
