import { createHash } from 'node:crypto';
import type { AgentPrincipal } from './types.js';

/** Default: how long an instance may keep accepting agent credentials it verified, without asking the database. */
export const AGENT_AUTH_CACHE_SECONDS = 5;
const MAX_ENTRIES = 10_000;

interface Entry {
  readonly principal: AgentPrincipal;
  readonly until: number;
}

/**
 * Agent logins this instance verified, for a few seconds. Every host of an organization presents
 * the same two headers, so a fleet's handshakes mostly hit this instead of the database.
 * Entries are keyed by SHA-256 of the presented headers (no key is kept) and never outlive
 * `ttlMs` nor the keys' own expiry. Only successes are kept: a failure always takes the full
 * path, with its rate limit and audit. A rotation or an ended grace period on this instance
 * clears the cache at once; one made by another process (a second instance, the CLI) is seen
 * within `ttlMs`.
 */
export class AgentAuthCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by clear(): a lookup that started before a clear must not store what it read. */
  private generation = 0;

  constructor(private readonly ttlMs: number) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  static keyOf(authorization: string, apiKey: string): string {
    return createHash('sha256').update(authorization).update('\n').update(apiKey).digest('base64');
  }

  /** Pass to set(): what a lookup saw before it read the database. */
  get epoch(): number {
    return this.generation;
  }

  get(key: string, now: number): AgentPrincipal | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > now) return entry.principal;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps `principal` until `now + ttl`, or until the first of `expiries` (null: no expiry) when sooner. */
  set(
    key: string,
    principal: AgentPrincipal,
    epoch: number,
    now: number,
    expiries: readonly (number | null)[],
  ): void {
    if (!this.enabled || epoch !== this.generation) return;
    let until = now + this.ttlMs;
    for (const expiry of expiries) if (expiry !== null && expiry < until) until = expiry;
    if (until <= now) return;
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.delete(key);
    this.entries.set(key, { principal, until });
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
