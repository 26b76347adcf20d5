import { describe, expect, it } from 'vitest';
import type { BackendSpec } from './backend-set.js';
import { mergeEngineSets, parseEngineAddress } from './multi-engine-source.js';

const spec = (id: string, name: string): BackendSpec =>
  ({ id, name, url: `http://x/${id}`, source: 'docker' }) as BackendSpec;

describe('parseEngineAddress', () => {
  it.each([
    ['unix:///var/run/docker.sock', '127.0.0.1'],
    ['/var/run/docker.sock', '127.0.0.1'],
    ['tcp://10.77.1.12:2375', '10.77.1.12'],
    ['tcp://host-b.lan:2375', 'host-b.lan'],
    ['tcp://[fd00::2]:2375', '[fd00::2]'],
  ])('%s: published ports at %s', (address, host) => {
    const e = parseEngineAddress(address);
    expect(e.id).toBe(address);
    expect(e.publishedHost).toBe(host);
  });
});

describe('mergeEngineSets', () => {
  it('one set of every engine, by name; a duplicate id keeps the first engine', () => {
    expect(
      mergeEngineSets([
        [spec('1', 'web-b'), spec('2', 'web-a')],
        [],
        [spec('1', 'dup'), spec('3', 'web-c')],
      ]).map((s) => `${s.id}:${s.name}`),
    ).toEqual(['2:web-a', '1:web-b', '3:web-c']);
  });
});
