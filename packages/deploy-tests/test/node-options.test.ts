// The balancer's V8 heap settings have one home (packages/shared/src/node-options.ts); the image
// cannot import it, so this keeps deploy/Dockerfile's load-balancer stage equal to it, and
// checks the settings are ones Node accepts in NODE_OPTIONS (a typo would stop the container).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BALANCER_NODE_OPTIONS } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../src/repo-files.js';

function stage(dockerfile: string, name: string): string {
  const start = dockerfile.search(new RegExp(`^FROM .* AS ${name}$`, 'm'));
  if (start < 0) throw new Error(`no stage ${name}`);
  const rest = dockerfile.slice(start + 1);
  const next = rest.search(/^FROM /m);
  return next < 0 ? rest : rest.slice(0, next);
}

describe('balancer NODE_OPTIONS', () => {
  it('the load-balancer image sets exactly BALANCER_NODE_OPTIONS', () => {
    const lb = stage(readFileSync(repoPath('deploy/Dockerfile'), 'utf8'), 'load-balancer');
    const env = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(lb);
    expect(env?.[1]).toBe(BALANCER_NODE_OPTIONS);
  });

  it('Node accepts them in NODE_OPTIONS and the heap limit takes effect', () => {
    const r = spawnSync(
      process.execPath,
      ['-e', 'console.log(require("v8").getHeapStatistics().heap_size_limit)'],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: BALANCER_NODE_OPTIONS } },
    );
    expect(r.stderr).toBe('');
    // --max-old-space-size=96 plus the young generation: far below the default of several GiB
    expect(Number(r.stdout) / 2 ** 20).toBeLessThan(160);
  });
});
