import { describe, expect, it } from 'vitest';
import { targetFromDockerHost } from './engine-api.js';

describe('targetFromDockerHost', () => {
  it.each([
    ['unix:///var/run/docker.sock', {}, { socketPath: '/var/run/docker.sock' }],
    ['tcp://10.0.0.2:2375', {}, { host: '10.0.0.2', port: '2375', protocol: 'http', tls: undefined }],
    ['tcp://10.0.0.2', {}, { host: '10.0.0.2', port: 2375, protocol: 'http', tls: undefined }],
    ['tcp://[fd00::2]:2375', {}, { host: 'fd00::2', port: '2375', protocol: 'http', tls: undefined }],
    ['tcp://h', { DOCKER_TLS_VERIFY: '1' }, { host: 'h', port: 2376, protocol: 'https', tls: undefined }],
  ])('%s %j', (host, env, want) => {
    expect(targetFromDockerHost(host, env)).toEqual(want);
  });
});

it('an ssh:// DOCKER_HOST is refused with the variable and the reason (dockerode spoke ssh; this client does not)', () => {
  expect(() => targetFromDockerHost('ssh://me@host')).toThrow(
    /DOCKER_HOST="ssh:\/\/me@host".*unix:\/\/ or tcp:\/\//,
  );
});
