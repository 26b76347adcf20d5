import { describe, expect, it } from 'vitest';
import { dockerSocketPaths, parsePasswd, planPrivilegeDrop, resolveRunAs } from './privilege.js';

const passwd = parsePasswd(
  [
    'root:x:0:0:root:/root:/bin/sh',
    '# a comment:x:1:1',
    'node:x:1000:1000:node:/home/node:/bin/sh',
    'broken:x:abc:1',
    'short:x:5',
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
    '',
  ].join('\n'),
);

describe('parsePasswd', () => {
  it('keeps well-formed entries only', () => {
    expect(passwd).toEqual([
      { name: 'root', uid: 0, gid: 0 },
      { name: 'node', uid: 1000, gid: 1000 },
      { name: 'nobody', uid: 65534, gid: 65534 },
    ]);
  });
});

describe('resolveRunAs', () => {
  it.each([
    ['node', { ok: true, user: { name: 'node', uid: 1000, gid: 1000 } }],
    ['node:42', { ok: true, user: { name: 'node', uid: 1000, gid: 42 } }],
    ['1000', { ok: true, user: { name: 'node', uid: 1000, gid: 1000 } }],
    ['4242', { ok: true, user: { name: '4242', uid: 4242, gid: 4242 } }],
    ['4242:7', { ok: true, user: { name: '4242', uid: 4242, gid: 7 } }],
    ['ghost', { ok: false, reason: 'no user "ghost" in /etc/passwd' }],
    ['node:staff', { ok: false, reason: 'expected a user name, a uid or uid:gid' }],
    ['1:2:3', { ok: false, reason: 'expected a user name, a uid or uid:gid' }],
    [':5', { ok: false, reason: 'expected a user name, a uid or uid:gid' }],
  ])('%s', (runAs, want) => {
    expect(resolveRunAs(runAs, passwd)).toEqual(want);
  });
});

describe('planPrivilegeDrop', () => {
  const sock = (gid: number | undefined, path = '/var/run/docker.sock') => ({ path, gid });
  it.each([
    {
      name: 'root with RUN_AS: the user, its group, then the socket group',
      input: { uid: 0, runAs: 'node', sockets: [sock(107)] },
      want: { action: 'drop', user: 'node', uid: 1000, gid: 1000, groups: [1000, 107] },
    },
    {
      name: 'several sockets: each group once, the user group first',
      input: { uid: 0, runAs: 'node', sockets: [sock(999, '/a'), sock(1000, '/b'), sock(999, '/c')] },
      want: { action: 'drop', user: 'node', uid: 1000, gid: 1000, groups: [1000, 999] },
    },
    {
      name: 'a socket root:root (Docker Desktop): group 0 kept, it is what opens the socket',
      input: { uid: 0, runAs: 'node', sockets: [sock(0)] },
      want: { action: 'drop', user: 'node', uid: 1000, gid: 1000, groups: [1000, 0] },
    },
    {
      name: 'no socket mounted (static discovery): the user and its group only',
      input: { uid: 0, runAs: 'node', sockets: [sock(undefined)] },
      want: { action: 'drop', user: 'node', uid: 1000, gid: 1000, groups: [1000] },
    },
    {
      name: 'root without RUN_AS: stays root',
      input: { uid: 0, runAs: undefined, sockets: [sock(107)] },
      want: { action: 'keep', reason: 'no-run-as' },
    },
    {
      name: 'root with an empty RUN_AS: stays root',
      input: { uid: 0, runAs: '', sockets: [] },
      want: { action: 'keep', reason: 'no-run-as' },
    },
    {
      name: 'not root: nothing to drop, whatever RUN_AS says',
      input: { uid: 1000, runAs: 'node', sockets: [sock(107)] },
      want: { action: 'keep', reason: 'not-root' },
    },
    {
      name: 'not root, RUN_AS naming nobody: still nothing to do',
      input: { uid: 1000, runAs: 'ghost', sockets: [] },
      want: { action: 'keep', reason: 'not-root' },
    },
    {
      name: 'root, RUN_AS naming nobody: refused',
      input: { uid: 0, runAs: 'ghost', sockets: [] },
      want: { action: 'refuse', reason: 'no user "ghost" in /etc/passwd' },
    },
    {
      name: 'root, RUN_AS=root: refused',
      input: { uid: 0, runAs: 'root', sockets: [] },
      want: { action: 'refuse', reason: 'is root: name an unprivileged user' },
    },
    {
      name: 'root, RUN_AS=0:1000: refused',
      input: { uid: 0, runAs: '0:1000', sockets: [] },
      want: { action: 'refuse', reason: 'is root: name an unprivileged user' },
    },
  ])('$name', ({ input, want }) => {
    expect(planPrivilegeDrop({ ...input, passwd })).toEqual(want);
  });
});

describe('dockerSocketPaths', () => {
  it.each([
    { socket: '/var/run/docker.sock', hosts: [], want: ['/var/run/docker.sock'] },
    {
      socket: '/var/run/docker.sock',
      hosts: ['unix:///run/a.sock', 'tcp://10.0.0.2:2375', 'unix:///run/b.sock'],
      want: ['/run/a.sock', '/run/b.sock'],
    },
    { socket: '/var/run/docker.sock', hosts: ['tcp://10.0.0.2:2375'], want: [] },
  ])('$socket $hosts', ({ socket, hosts, want }) => {
    expect(dockerSocketPaths(socket, hosts)).toEqual(want);
  });
});
