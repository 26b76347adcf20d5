import { describe, expect, it } from 'vitest';
import { parseQueryResponse, parseSampleValue } from './parse-vector.js';

describe('parseQueryResponse', () => {
  it('reads an instant vector with labels and values', () => {
    const r = parseQueryResponse({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { replica: 'b-1' }, value: [1700000000, '0.5'] },
          { metric: { replica: 'b-2' }, value: [1700000000, 'NaN'] },
          { metric: { replica: 'b-3' }, value: [1700000000, '+Inf'] },
        ],
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.series.map((s) => s.labels.replica)).toEqual(['b-1', 'b-2', 'b-3']);
    expect(r.series[0]!.value).toBe(0.5);
    expect(Number.isNaN(r.series[1]!.value)).toBe(true);
    expect(r.series[2]!.value).toBe(Number.POSITIVE_INFINITY);
  });
  it('ages samples against the time asked for', () => {
    const r = parseQueryResponse(
      { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [100, '1'] }] } },
      103,
    );
    expect(r.ok && r.series[0]!.ageMs).toBe(3000);
  });
  it('reads a scalar', () => {
    const r = parseQueryResponse({ status: 'success', data: { resultType: 'scalar', result: [1, '0.25'] } });
    expect(r.ok && r.series[0]!.value).toBe(0.25);
  });
  it.each([
    [null, 'response is not JSON object'],
    [
      { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' },
      'bad_data: parse error at char 3',
    ],
    [
      { status: 'success', data: { resultType: 'matrix', result: [] } },
      'expected an instant vector, got matrix',
    ],
  ])('errors become a reason (%#)', (body, detail) => {
    const r = parseQueryResponse(body);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.why).toBe('error');
      expect(r.detail).toContain(detail);
    }
  });
  it('parses sample values like Prometheus writes them', () => {
    expect(parseSampleValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseSampleValue('1e-3')).toBe(0.001);
    expect(Number.isNaN(parseSampleValue(''))).toBe(true);
    expect(Number.isNaN(parseSampleValue(3))).toBe(true);
  });
});
