import { describe, expect, it } from 'vitest';
import { Counter, createMetrics, Histogram } from '../src/metrics.js';

describe('Counter', () => {
  it('renders one line per label set, escaping label values', () => {
    const counter = new Counter('x_total', 'Help text.', ['kind']);
    counter.inc({ kind: 'a' });
    counter.inc({ kind: 'a' }, 2);
    counter.inc({ kind: 'say "hi"\\\n' });
    expect(counter.get({ kind: 'a' })).toBe(3);
    expect(counter.render()).toEqual([
      '# HELP x_total Help text.',
      '# TYPE x_total counter',
      'x_total{kind="a"} 3',
      'x_total{kind="say \\"hi\\"\\\\\\n"} 1',
    ]);
  });

  it('shows 0 for an unlabelled counter never incremented, and nothing for a labelled one', () => {
    expect(new Counter('plain_total', 'h').render()).toContain('plain_total 0');
    expect(new Counter('labelled_total', 'h', ['format']).render()).toHaveLength(2);
  });
});

describe('Histogram', () => {
  it('counts observations into cumulative buckets with sum and count', async () => {
    const histogram = new Histogram('build_seconds', 'h', [0.1, 1]);
    histogram.observe(0.05);
    histogram.observe(0.5);
    histogram.observe(3);
    expect(histogram.render()).toEqual([
      '# HELP build_seconds h',
      '# TYPE build_seconds histogram',
      'build_seconds_bucket{le="0.1"} 1',
      'build_seconds_bucket{le="1"} 2',
      'build_seconds_bucket{le="+Inf"} 3',
      'build_seconds_sum 3.55',
      'build_seconds_count 3',
    ]);
    await expect(histogram.time(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(histogram.observations).toBe(4);
  });
});

describe('createMetrics', () => {
  it('renders every series the service promises, in Prometheus text format', () => {
    const text = createMetrics().render();
    for (const name of [
      'agentpack_downloads_total',
      'agentpack_bundle_builds_total',
      'agentpack_bundle_build_seconds',
      'agentpack_bundle_cache_hits_total',
      'agentpack_auth_failures_total',
      'agentpack_http_requests_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text.endsWith('\n')).toBe(true);
  });
});
