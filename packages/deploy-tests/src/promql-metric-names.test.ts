import { describe, expect, it } from 'vitest';
import { promqlMetricNames, withHistogramSeries } from './promql-metric-names.js';

describe('promqlMetricNames', () => {
  it.each([
    ['up', ['up']],
    ['sum by (status) (rate(headroom_lb_requests_total[1m]))', ['headroom_lb_requests_total']],
    [
      'histogram_quantile(0.99, sum by (le) (rate(headroom_lb_request_duration_seconds_bucket{job="x"}[1m])))',
      ['headroom_lb_request_duration_seconds_bucket'],
    ],
    [
      'rate(process_cpu_seconds_total{service!=""}[20s]) / on (job, instance) group_left () headroom_backend_cpu_limit_cores',
      ['process_cpu_seconds_total', 'headroom_backend_cpu_limit_cores'],
    ],
    [
      'headroom:replica_cpu_utilization:ratio{service="web"} > bool 0.5',
      ['headroom:replica_cpu_utilization:ratio'],
    ],
    ['a_total offset 5m and ignoring(x) b_total unless c_total', ['a_total', 'b_total', 'c_total']],
    ['label_replace(up, "name", "$1", "instance", "(.*):.*")', ['up']],
    ['sum without (instance) (x) * 1e3', ['x']],
    ['count(m{a=~"by|on"}) or vector(0)', ['m']],
  ])('%s', (expr, expected) => {
    expect(promqlMetricNames(expr).sort()).toEqual([...expected].sort());
  });
});

describe('withHistogramSeries', () => {
  it('adds the bucket, sum and count series of each name', () => {
    expect([...withHistogramSeries(['h'])].sort()).toEqual(['h', 'h_bucket', 'h_count', 'h_sum']);
  });
});
