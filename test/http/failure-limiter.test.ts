import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../src/http/failure-limiter.js';

describe('FailureLimiter', () => {
  it('blocks an address after max failures until its window ends, leaving others alone', () => {
    let now = 0;
    const limiter = new FailureLimiter({ max: 2, windowMs: 10_000 }, () => now);
    limiter.hit('10.0.0.1');
    expect(limiter.retryAfter('10.0.0.1')).toBe(0);
    limiter.hit('10.0.0.1');
    expect(limiter.retryAfter('10.0.0.1')).toBe(10);
    expect(limiter.retryAfter('10.0.0.2')).toBe(0);
    now = 9_001;
    expect(limiter.retryAfter('10.0.0.1')).toBe(1);
    now = 10_000;
    expect(limiter.retryAfter('10.0.0.1')).toBe(0);
    limiter.hit('10.0.0.1');
    expect(limiter.retryAfter('10.0.0.1')).toBe(0);
  });
});
