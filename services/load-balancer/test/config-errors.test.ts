// One-line configuration errors (issue #27): settings that only failed where they were used
// (a stack trace from the resource source or the engine client) are refused at start by the
// schema, with the variable and the reason on stderr, exit code 1. The real main, spawned.
import { spawnService } from '@headroom/testkit';
import { describe, expect, it } from 'vitest';

async function refused(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const proc = spawnService('load-balancer', { PORT: '0', ADMIN_PORT: '0', DISCOVERY: 'static', ...env });
  let stderr = '';
  proc.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stderr };
}

describe('configuration errors: one line per field, no stack trace', () => {
  it.each([
    [
      'METRICS_SOURCE=prometheus without PROMETHEUS_URL',
      { METRICS_SOURCE: 'prometheus' },
      'PROMETHEUS_URL=(unset): METRICS_SOURCE=prometheus reads CPU and memory from Prometheus',
    ],
    [
      'a DOCKER_HOST the balancer cannot speak to (ssh://)',
      { DISCOVERY: 'docker', DOCKER_HOST: 'ssh://me@host' },
      'DOCKER_HOST="ssh://me@host": expected unix:///path or tcp://host:port (ssh:// is not supported)',
    ],
    [
      'a DOCKER_HOST without a host',
      { DISCOVERY: 'docker', DOCKER_HOST: 'tcp://' },
      'DOCKER_HOST="tcp://": expected tcp://host:port',
    ],
    [
      'a DOCKER_HOSTS entry the balancer cannot speak to',
      { DISCOVERY: 'docker', DOCKER_HOSTS: 'unix:///var/run/docker.sock,ssh://b' },
      'DOCKER_HOSTS="unix:///var/run/docker.sock,ssh://b": "ssh://b": expected unix:///path or tcp://host:port',
    ],
    ['a bad HEALTH_STATUS', { HEALTH_STATUS: '2xx' }, 'HEALTH_STATUS="2xx": expected statuses 100..599'],
  ])('%s', async (_name, env, line) => {
    const { code, stderr } = await refused(env);
    expect(code).toBe(1);
    expect(stderr).toContain('invalid configuration for load-balancer:');
    expect(stderr).toContain(line);
    // no stack trace: no "    at fn (file:line)" frames, no Error: prefix
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toMatch(/^\w*Error: /m);
    expect(stderr.trim().split('\n')).toHaveLength(2);
  });
});
