import { describe, expect, it } from 'vitest';
import { autoscalerConfigSchema } from './autoscaler.js';
import { backendConfigSchema } from './backend.js';
import { loadBalancerConfigSchema } from './load-balancer.js';
import { ConfigError, parseConfig } from './load-config.js';
import { configDocs } from './print-config-docs.js';

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills documented defaults from an empty environment', () => {
    const cfg = parseConfig('load-balancer', loadBalancerConfigSchema, {});
    expect(cfg.PORT).toBe(8080);
    expect(cfg.ADMIN_PORT).toBe(8081);
    expect(cfg.BALANCER_MODE).toBe('resource-aware');
    expect(cfg.DISCOVERY).toBe('docker');
    expect(cfg.BACKENDS).toEqual([]);
    expect(cfg.ADMIN_TOKEN).toBeUndefined();
    expect(cfg.SCORE_CPU_WEIGHT).toBe(0.8);
    const be = parseConfig('backend', backendConfigSchema, {});
    expect(be.PORT).toBe(3000);
    expect(be.HOST).toBe('0.0.0.0');
    const as = parseConfig('autoscaler', autoscalerConfigSchema, {});
    expect(as.MIN_REPLICAS).toBe(1);
    expect(as.MAX_REPLICAS).toBe(10);
    expect(as.TARGET_CPU_UTILIZATION).toBe(0.6);
    expect(as.INTERVAL_MS).toBe(2000);
    expect(as.ADMIN_PORT).toBe(8082);
  });

  it('parses given values', () => {
    const cfg = parseConfig('load-balancer', loadBalancerConfigSchema, {
      PORT: '9000',
      BACKENDS: 'http://127.0.0.1:3001/, http://127.0.0.1:3002',
      BALANCER_MODE: 'latency',
      LOG_PRETTY: 'yes',
    });
    expect(cfg.PORT).toBe(9000);
    expect(cfg.BACKENDS).toEqual([{ url: 'http://127.0.0.1:3001' }, { url: 'http://127.0.0.1:3002' }]);
    expect(cfg.BALANCER_MODE).toBe('latency');
    expect(cfg.LOG_PRETTY).toBe(true);
  });

  it('reports one line per bad field with its name, value and expectation', () => {
    const err = issuesOf(() =>
      parseConfig('load-balancer', loadBalancerConfigSchema, {
        PORT: 'eighty',
        BALANCER_MODE: 'fastest',
        BACKENDS: 'ftp://x',
        SCORE_CPU_WEIGHT: '1.5',
      }),
    );
    const fields = err.issues.map((i) => i.field).sort();
    expect(fields).toEqual(['BACKENDS', 'BALANCER_MODE', 'PORT', 'SCORE_CPU_WEIGHT']);
    expect(err.message).toContain('PORT="eighty": expected a TCP port');
    expect(err.message).toContain(
      'BALANCER_MODE="fastest": expected one of resource-aware, least-connections, round-robin, latency',
    );
    expect(err.message.split('\n')).toHaveLength(5);
  });

  it('BACKENDS entries name their service and routes after a #; a bad one is refused with the reason', () => {
    const cfg = parseConfig('load-balancer', loadBalancerConfigSchema, {
      BACKENDS:
        'http://127.0.0.1:3001/#service=shop&host=Shop.localhost&host=*.shop.localhost,http://127.0.0.1:3002#service=api&path=/api&strip=true',
    });
    expect(cfg.BACKENDS).toEqual([
      {
        url: 'http://127.0.0.1:3001',
        service: 'shop',
        routes: { hosts: ['shop.localhost', '*.shop.localhost'], path: undefined, strip: false },
      },
      { url: 'http://127.0.0.1:3002', service: 'api', routes: { hosts: [], path: '/api', strip: true } },
    ]);
    for (const [bad, why] of [
      ['http://a:1#service=x&colour=red', 'unknown key "colour"'],
      ['http://a:1#host=a*b.com', 'wildcard is only allowed'],
      ['http://a:1#path=api', 'starting with "/"'],
      ['http://a:1#strip=true', 'strip=true needs a path'],
      ['http://a:1#path=/x&strip=maybe', 'expected true or false'],
    ] as const) {
      const err = issuesOf(() => parseConfig('load-balancer', loadBalancerConfigSchema, { BACKENDS: bad }));
      expect(err.message).toContain(why);
      expect(err.message.split('\n')).toHaveLength(2);
    }
  });

  it('NODE_CPU_QUERY without PROMETHEUS_URL exits with the field and the reason', () => {
    const err = issuesOf(() =>
      parseConfig('load-balancer', loadBalancerConfigSchema, { NODE_CPU_QUERY: 'node_load1' }),
    );
    expect(err.issues.map((i) => i.field)).toEqual(['NODE_CPU_QUERY']);
    expect(err.message).toContain('needs PROMETHEUS_URL');
  });

  it.each([
    [{ TLS_PORT: '8443' }, 'TLS_CERT_DIR', 'TLS_PORT is set: it needs TLS_CERT_DIR'],
    [{ TLS_CERT_DIR: '/certs' }, 'TLS_PORT', 'set TLS_PORT'],
    [{ TLS_PORT: '8080', TLS_CERT_DIR: '/certs' }, 'TLS_PORT', 'must differ from PORT'],
    [{ TLS_PORT: 'https', TLS_CERT_DIR: '/certs' }, 'TLS_PORT', 'expected an integer in 0..65535'],
  ])('TLS set up by halves (%o) exits with one line naming %s', (env, field, reason) => {
    const err = issuesOf(() => parseConfig('load-balancer', loadBalancerConfigSchema, env));
    expect(err.issues.map((i) => i.field)).toEqual([field]);
    expect(err.message.split('\n')).toHaveLength(2);
    expect(err.message).toContain(reason);
  });

  // overload control (issue #26): limits and queue settings are checked at start
  it.each([
    [{ LIMIT_MIN: '8', LIMIT_MAX: '4' }, 'LIMIT_MIN', 'LIMIT_MIN (8) is above LIMIT_MAX (4)'],
    [{ LIMIT_MIN: '0' }, 'LIMIT_MIN', 'LIMIT_MIN="0"'],
    [{ QUEUE_TIMEOUT_MS: 'soon' }, 'QUEUE_TIMEOUT_MS', 'QUEUE_TIMEOUT_MS="soon"'],
    [{ QUEUE_MAX: '-1' }, 'QUEUE_MAX', 'QUEUE_MAX="-1"'],
  ])('overload settings %o exit with one line naming %s', (env, field, reason) => {
    const err = issuesOf(() => parseConfig('load-balancer', loadBalancerConfigSchema, env));
    expect(err.issues.map((i) => i.field)).toEqual([field]);
    expect(err.message.split('\n')).toHaveLength(2);
    expect(err.message).toContain(reason);
  });

  it('TLS is off by default and on with a port and a directory', () => {
    expect(parseConfig('load-balancer', loadBalancerConfigSchema, {}).TLS_PORT).toBeUndefined();
    const on = parseConfig('load-balancer', loadBalancerConfigSchema, {
      TLS_PORT: '8443',
      TLS_CERT_DIR: '/c',
    });
    expect([on.TLS_PORT, on.TLS_CERT_DIR, on.TLS_REDIRECT_PORT]).toEqual([8443, '/c', 443]);
  });

  it('rejects fractional integers and trailing junk', () => {
    const err = issuesOf(() =>
      parseConfig('autoscaler', autoscalerConfigSchema, { MIN_REPLICAS: '1.5', INTERVAL_MS: '10s' }),
    );
    expect(err.issues.map((i) => i.field).sort()).toEqual(['INTERVAL_MS', 'MIN_REPLICAS']);
  });

  it('documents every field', () => {
    const docs = configDocs();
    for (const schema of [loadBalancerConfigSchema, autoscalerConfigSchema, backendConfigSchema]) {
      for (const name of Object.keys(schema.shape)) expect(docs).toContain(`\`${name}\``);
    }
    expect(docs).toContain('| `PORT` | `8080` |');
  });
});
