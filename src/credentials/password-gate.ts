import { availableParallelism } from 'node:os';
import { RateLimitedError } from '../common/errors.js';

/**
 * Runs at most `limit` tasks at once; up to `maxWaiting` more wait their turn in order, and
 * any beyond that are refused at once (429) rather than queued without bound.
 */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number,
    private readonly refusal: () => Error,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxWaiting) throw this.refusal();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` never drops under the limit
      // while others wait and no newcomer can overtake them.
      if (next === undefined) this.running -= 1;
      else next();
    }
  }

  /** Tasks running and waiting now (for tests and metrics). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}

/**
 * scrypt runs on libuv's thread pool (4 threads by default), the same pool that reads files for
 * downloads, and each check keeps a core busy. At most two at a time, and no more than half the
 * cores, leave threads to file reads and CPU to the event loop, so a flood of sign-ins slows
 * sign-ins, not downloads (see the `service` bench's sign-in flood row).
 */
export const PASSWORD_CHECKS_AT_ONCE = Math.max(1, Math.min(2, Math.floor(availableParallelism() / 2)));
/** At ~0.1-0.3 s a check, a queue this long waits a few seconds at most. */
export const PASSWORD_CHECKS_WAITING = 32;

export const passwordChecks = new Semaphore(
  PASSWORD_CHECKS_AT_ONCE,
  PASSWORD_CHECKS_WAITING,
  () => new RateLimitedError('too many password checks in progress; retry in 1 s', 1),
);
