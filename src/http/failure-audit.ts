/** A minute: at most one audit row per client, reason and organization in it. */
export const FAILURE_AUDIT_WINDOW_MS = 60_000;
const MAX_TRACKED = 100_000;

/**
 * Thins the audit rows of failed attempts: every row is a durable write, and a flood of bad
 * tokens or keys must not become a flood of fsyncs or bury an organization's real events. The
 * first failure of a key (client, reason, organization) in a window gets a row; the rest are
 * counted and reported by the key's next row (metrics count every one). In memory, per instance.
 */
export class FailureAudit {
  private readonly windows = new Map<string, { until: number; unrecorded: number }>();

  constructor(private readonly now: () => number) {}

  /**
   * null when this failure only counts (a row for its key was written within the window);
   * otherwise a row is due, carrying how many failures went unrecorded since the previous one.
   */
  admit(key: string): { unrecorded: number } | null {
    const now = this.now();
    const window = this.windows.get(key);
    if (window !== undefined && window.until > now) {
      window.unrecorded += 1;
      return null;
    }
    if (window === undefined && this.windows.size >= MAX_TRACKED) this.prune(now);
    this.windows.delete(key);
    this.windows.set(key, { until: now + FAILURE_AUDIT_WINDOW_MS, unrecorded: 0 });
    return { unrecorded: window?.unrecorded ?? 0 };
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows)
      if (window.until <= now && window.unrecorded === 0) this.windows.delete(key);
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_TRACKED) break;
      this.windows.delete(key);
    }
  }
}
