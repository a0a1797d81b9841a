/**
 * Counts failures per key in a fixed window; once `max` is reached the key is over its limit
 * until the window ends. In memory, per instance: with N instances a key gets at most N * max
 * tries per window.
 */
export interface FailureLimit {
  /** Failures allowed per window. */
  readonly max: number;
  readonly windowMs: number;
}

/** Bounds memory under a spray of addresses or accounts; expired windows are dropped first. */
const MAX_TRACKED = 100_000;

export class FailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: FailureLimit,
    private readonly now: () => number,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const window = this.windows.get(key);
    const now = this.now();
    if (window === undefined || window.resetAt <= now) return 0;
    return window.count >= this.limit.max ? Math.ceil((window.resetAt - now) / 1000) : 0;
  }

  hit(key: string): void {
    const now = this.now();
    const window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      if (this.windows.size >= MAX_TRACKED) this.prune(now);
      this.windows.set(key, { count: 1, resetAt: now + this.limit.windowMs });
    } else window.count += 1;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    // Still full: forget the oldest entries (Map keeps insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_TRACKED) break;
      this.windows.delete(key);
    }
  }
}

export interface AuthFailureLimits {
  readonly perAccount: number;
  readonly perClient: number;
  readonly windowMs: number;
}

/**
 * Failed authentications counted twice: per account (an e-mail, an agent's organization) and
 * per client (see http/client.ts). A key over its limit is refused; an attempt refused for its
 * account is not counted against its client, so hammering one locked account never locks the
 * client out of other accounts.
 */
export class AuthFailureCounter {
  private readonly accounts: FailureLimiter;
  private readonly clients: FailureLimiter;

  constructor(limits: AuthFailureLimits, now: () => number) {
    this.accounts = new FailureLimiter({ max: limits.perAccount, windowMs: limits.windowMs }, now);
    this.clients = new FailureLimiter({ max: limits.perClient, windowMs: limits.windowMs }, now);
  }

  /** Seconds until this client may try this account again (0: now), and which limit holds it. */
  blocked(client: string, account: string | null): { seconds: number; by: 'account' | 'client' } | null {
    const byAccount = account === null ? 0 : this.accounts.retryAfter(account);
    if (byAccount > 0) return { seconds: byAccount, by: 'account' };
    const byClient = this.clients.retryAfter(client);
    return byClient > 0 ? { seconds: byClient, by: 'client' } : null;
  }

  hit(client: string, account: string | null): void {
    if (account !== null) this.accounts.hit(account);
    this.clients.hit(client);
  }
}
