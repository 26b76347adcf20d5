import { parseStatusRanges } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import {
  ANY_HTTP_ANSWER,
  chooseHealthCheck,
  type HealthCheck,
  type HealthCheckDefaults,
  type HealthCheckInput,
  isDefaultCheck,
} from '../model/health-check.js';
import { healthVerdict, httpResult, type ProbeResult } from './health-check.js';

describe('parseStatusRanges (lb.health.status, HEALTH_STATUS)', () => {
  const rows: Array<[string, unknown]> = [
    ['200-499', [[200, 499]]],
    ['200', [[200, 200]]],
    [
      '200,204, 300-399',
      [
        [200, 200],
        [204, 204],
        [300, 399],
      ],
    ],
    ['200 - 299', [[200, 299]]],
    ['499-200', 'error'],
    ['99', 'error'],
    ['600', 'error'],
    ['2xx', 'error'],
    ['200-', 'error'],
    ['', 'error'],
    ['200,,300', 'error'],
  ];
  it.each(rows)('%j → %j', (input, want) => {
    const got = parseStatusRanges(input);
    if (want === 'error') expect(typeof got).toBe('string');
    else expect(got).toEqual(want);
  });
});

describe('chooseHealthCheck: the check kind', () => {
  const rows: Array<[string, HealthCheckInput, HealthCheckDefaults, HealthCheck | 'error']> = [
    ['no path anywhere: TCP', {}, {}, { kind: 'tcp' }],
    ['empty label: TCP', { path: ' ' }, {}, { kind: 'tcp' }],
    [
      'label path: HTTP, default statuses',
      { path: '/ready' },
      {},
      { kind: 'http', path: '/ready', status: '200-399' },
    ],
    ['HEALTH_PATH: HTTP', {}, { path: '/health' }, { kind: 'http', path: '/health', status: '200-399' }],
    [
      'label beats HEALTH_PATH',
      { path: '/ready' },
      { path: '/health' },
      { kind: 'http', path: '/ready', status: '200-399' },
    ],
    ['label status', { path: '/', status: '200-499' }, {}, { kind: 'http', path: '/', status: '200-499' }],
    ['HEALTH_STATUS', { path: '/' }, { status: '200,204' }, { kind: 'http', path: '/', status: '200,204' }],
    [
      'label status beats HEALTH_STATUS',
      { path: '/', status: '200-499' },
      { status: '200' },
      { kind: 'http', path: '/', status: '200-499' },
    ],
    [
      'status spaces normalised',
      { path: '/', status: '200, 300-399' },
      {},
      { kind: 'http', path: '/', status: '200,300-399' },
    ],
    ['HEALTH_STATUS alone keeps TCP', {}, { status: '200-499' }, { kind: 'tcp' }],
    ['label status without a path: error', { status: '200-499' }, {}, 'error'],
    ['bad status: error', { path: '/', status: '2xx' }, {}, 'error'],
    ['path without /: error', { path: 'health' }, {}, 'error'],
  ];
  it.each(rows)('%s', (_name, own, defaults, want) => {
    const got = chooseHealthCheck(own, defaults);
    if (want === 'error') expect(typeof got).toBe('string');
    else expect(got).toEqual(want);
  });
});

describe('healthVerdict: a probe and Docker health', () => {
  const up: ProbeResult = { ok: true };
  const down: ProbeResult = { ok: false, reason: 'ECONNREFUSED' };
  const rows: Array<[HealthCheck['kind'], ProbeResult, string | undefined, boolean, boolean]> = [
    // kind, probe, docker health → ok, immediate
    ['tcp', up, undefined, true, false],
    ['tcp', down, undefined, false, false],
    ['tcp', up, 'healthy', true, false],
    ['tcp', down, 'healthy', false, false],
    ['tcp', up, 'starting', false, false],
    ['tcp', up, 'unhealthy', false, true],
    ['http', up, 'starting', true, false],
    ['http', down, 'starting', false, false],
    ['http', up, 'unhealthy', false, true],
    ['http', up, 'healthy', true, false],
  ];
  it.each(rows)('%s probe %j docker %s → ok %s immediate %s', (kind, probe, docker, ok, immediate) => {
    const v = healthVerdict(kind, probe, docker);
    expect(v.ok).toBe(ok);
    expect(v.immediate).toBe(immediate);
    if (docker === 'unhealthy') expect(v.reason).toMatch(/Docker HEALTHCHECK reports unhealthy/);
  });
});

describe('httpResult: status ranges', () => {
  const rows: Array<[number, string, boolean]> = [
    [200, '200-399', true],
    [302, '200-399', true],
    [404, '200-399', false],
    [404, '200-499', true],
    [503, '200-499', false],
    [426, '200,426', true],
    [204, '200,426', false],
  ];
  it.each(rows)('%d under %s → %s', (code, status, ok) => {
    const r = httpResult(code, status);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.reason).toContain(`HTTP ${code}`);
  });
});

describe('isDefaultCheck: the checks under which Docker `starting` keeps a backend out', () => {
  it.each<[string | undefined, string | undefined, boolean]>([
    [undefined, undefined, true], // the TCP default
    ['/', ANY_HTTP_ANSWER, true], // the default on a published port: any HTTP answer
    ['/health', undefined, false], // a path the user asked for
    ['/', '200-399', false],
  ])('path %s, status %s → %s', (path, status, want) => {
    expect(isDefaultCheck(path, status)).toBe(want);
  });
});
