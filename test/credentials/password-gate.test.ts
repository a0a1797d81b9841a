import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/common/errors.js';
import { hashPassword, verifyPasswordHash } from '../../src/credentials/password.js';
import { PASSWORD_CHECKS_AT_ONCE, passwordChecks, Semaphore } from '../../src/credentials/password-gate.js';

/** A task that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('Semaphore', () => {
  it('runs at most its limit at once, queues a bounded number in order and refuses the rest', async () => {
    const semaphore = new Semaphore(2, 2, () => new RateLimitedError('busy', 1));
    const gates = Array.from({ length: 4 }, gate);
    const order: number[] = [];
    const runs = gates.map((g, i) =>
      semaphore.run(async () => {
        order.push(i);
        await g.promise;
      }),
    );
    await Promise.resolve();
    expect(semaphore.load).toEqual({ running: 2, waiting: 2 });
    await expect(semaphore.run(async () => undefined)).rejects.toMatchObject({ status: 429 });
    gates[1]?.open();
    await runs[1];
    await Promise.resolve();
    expect(order).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await Promise.all(runs);
    expect(semaphore.load).toEqual({ running: 0, waiting: 0 });
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('frees its slot when a task fails', async () => {
    const semaphore = new Semaphore(1, 0, () => new RateLimitedError('busy', 1));
    await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(async () => 'ok')).resolves.toBe('ok');
  });
});

describe('password checks', () => {
  it('run at most two at a time (one on two cores), however many arrive together', async () => {
    expect(PASSWORD_CHECKS_AT_ONCE).toBeGreaterThanOrEqual(1);
    expect(PASSWORD_CHECKS_AT_ONCE).toBeLessThanOrEqual(2);
    const stored = await hashPassword('correct horse battery staple', { N: 2 ** 10, r: 8, p: 1 });
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, passwordChecks.load.running);
    }, 0);
    const checks = Array.from({ length: 8 }, () => verifyPasswordHash('wrong password', stored));
    most = Math.max(most, passwordChecks.load.running);
    expect(passwordChecks.load.waiting).toBe(8 - PASSWORD_CHECKS_AT_ONCE);
    expect(await Promise.all(checks)).toEqual(Array(8).fill(false));
    clearInterval(watch);
    expect(most).toBe(PASSWORD_CHECKS_AT_ONCE);
  });
});
