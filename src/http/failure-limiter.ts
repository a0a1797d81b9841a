/**
 * Counts failed authentications per client address in a fixed window; once `max` is reached,
 * every credentialed request from that address answers 429 until the window ends. In memory,
 * per instance: with N instances an address gets at most N * max tries per window.
 */
export interface FailureLimit {
  /** Failures allowed per window. */
  readonly max: number;
  readonly windowMs: number;
}

export const DEFAULT_FAILURE_LIMIT: FailureLimit = { max: 20, windowMs: 5 * 60_000 };

/** Bounds memory under a spray of addresses; expired windows are dropped first. */
const MAX_TRACKED = 100_000;

export class FailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: FailureLimit,
    private readonly now: () => number,
  ) {}

  /** Seconds until the address may try again, or 0 when it may try now. */
  retryAfter(address: string): number {
    const window = this.windows.get(address);
    const now = this.now();
    if (window === undefined || window.resetAt <= now) return 0;
    return window.count >= this.limit.max ? Math.ceil((window.resetAt - now) / 1000) : 0;
  }

  hit(address: string): void {
    const now = this.now();
    const window = this.windows.get(address);
    if (window === undefined || window.resetAt <= now) {
      if (this.windows.size >= MAX_TRACKED) this.prune(now);
      this.windows.set(address, { count: 1, resetAt: now + this.limit.windowMs });
    } else window.count += 1;
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
    // Still full: forget the oldest entries (Map keeps insertion order).
    for (const address of this.windows.keys()) {
      if (this.windows.size < MAX_TRACKED) break;
      this.windows.delete(address);
    }
  }
}
