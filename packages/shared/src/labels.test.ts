import { describe, expect, it } from 'vitest';
import {
  isEnabled,
  LB_LABELS,
  parseAutoscaleLabels,
  parsePort,
  parsePositiveNumber,
  parseRouteLabels,
  parseSticky,
  replicaIndex,
  replicaName,
} from './labels.js';

describe('labels', () => {
  it('round-trips replica names', () => {
    expect(replicaName('backend', 3)).toBe('backend-3');
    expect(replicaIndex('backend', 'backend-3')).toBe(3);
    expect(replicaIndex('backend', '/backend-12')).toBe(12);
    expect(replicaIndex('backend', 'backend-x')).toBeUndefined();
    expect(replicaIndex('backend', 'backend-0')).toBeUndefined();
    expect(replicaIndex('backend', 'backend-api-1')).toBeUndefined();
    expect(replicaIndex('backend', 'other-1')).toBeUndefined();
  });
  it('parses lb.enable like Docker users write it', () => {
    expect(isEnabled('true')).toBe(true);
    expect(isEnabled('1')).toBe(true);
    expect(isEnabled('false')).toBe(false);
    expect(isEnabled(undefined)).toBe(false);
  });
  it('parses sticky policies', () => {
    expect(parseSticky(undefined, undefined)).toEqual({ kind: 'none' });
    expect(parseSticky('cookie', undefined)).toEqual({ kind: 'cookie', cookie: 'headroom_affinity' });
    expect(parseSticky('cookie', 'sid')).toEqual({ kind: 'cookie', cookie: 'sid' });
    expect(parseSticky('header:X-User', undefined)).toEqual({ kind: 'header', header: 'x-user' });
    expect(typeof parseSticky('header:', undefined)).toBe('string');
    expect(typeof parseSticky('ip', undefined)).toBe('string');
  });
  it('parses numbers and ports with errors as strings', () => {
    expect(parsePositiveNumber('2')).toBe(2);
    expect(parsePositiveNumber(undefined)).toBeUndefined();
    expect(typeof parsePositiveNumber('0')).toBe('string');
    expect(parsePositiveNumber('0', true)).toBe(0);
    expect(typeof parsePositiveNumber('abc')).toBe('string');
    expect(parsePort('8080')).toBe(8080);
    expect(typeof parsePort('70000')).toBe('string');
  });
  it.each<[string, Record<string, string>, string | null]>([
    // [case, labels, the label named in the error (null: valid)]
    ['enable only', { 'autoscale.enable': 'true' }, null],
    [
      'bounds and targets',
      { 'autoscale.min': '2', 'autoscale.max': '8', 'autoscale.target.concurrency': '10' },
      null,
    ],
    ['min 0 (scale to zero)', { 'autoscale.min': '0' }, null],
    ['min not a number', { 'autoscale.min': 'two' }, 'autoscale.min'],
    ['max not an integer', { 'autoscale.max': '2.5' }, 'autoscale.max'],
    ['max 0', { 'autoscale.max': '0' }, 'autoscale.max'],
    ['min above max', { 'autoscale.min': '5', 'autoscale.max': '3' }, 'autoscale.min'],
    ['unknown metric', { 'autoscale.target.latency': '100' }, 'autoscale.target.latency'],
    ['target not a number', { 'autoscale.target.cpu': 'high' }, 'autoscale.target.cpu'],
    ['target 0', { 'autoscale.target.rps': '0' }, 'autoscale.target.rps'],
    ['a typo', { 'autoscale.mni': '1' }, 'autoscale.mni'],
  ])('parses autoscale.* labels: %s', (_name, labels, bad) => {
    const r = parseAutoscaleLabels(labels);
    if (bad === null) expect(r.ok).toBe(true);
    else expect(r.ok ? null : r.error.label).toBe(bad);
  });
  it('parses lb.tls.redirect with the route labels, naming the label when it is bad', () => {
    expect(parseRouteLabels({ [LB_LABELS.tlsRedirect]: 'true' })).toEqual({
      hosts: [],
      path: undefined,
      strip: false,
      tlsRedirect: true,
    });
    expect(parseRouteLabels({ [LB_LABELS.tlsRedirect]: 'false' })).toEqual({
      hosts: [],
      path: undefined,
      strip: false,
    });
    expect(parseRouteLabels({ [LB_LABELS.tlsRedirect]: 'sometimes' })).toBe(
      'lb.tls.redirect: expected true or false, got "sometimes"',
    );
  });

  it('names the metrics the targets are for', () => {
    const r = parseAutoscaleLabels({ 'autoscale.target.cpu': '0.7', 'autoscale.target.concurrency': '20' });
    expect(r.ok && r.value.targets).toEqual([
      { metric: 'cpu', target: 0.7 },
      { metric: 'concurrency', target: 20 },
    ]);
  });
});
