import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../storage/db/types.js';

/**
 * Server-side login sessions, shared by every instance through the database. The cookie holds
 * a random 256-bit id; the database holds only its SHA-256. The CSRF token is an HMAC of the
 * id, so it needs no storage and cannot be computed without the id.
 */
export const SESSION_COOKIE = 'agentpack_session';
export const SESSION_TTL_MS = 12 * 3600_000;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const PURGE_EVERY_MS = 3600_000;

export interface Session {
  readonly userId: string;
  readonly idHash: string;
  readonly csrfToken: string;
  /** ms since the epoch */
  readonly expiresAt: number;
}

export class Sessions {
  private readonly csrfKey: Buffer;
  private lastPurge = 0;

  constructor(
    private readonly store: Store,
    secret: Buffer,
    private readonly now: () => number,
  ) {
    this.csrfKey = createHmac('sha256', secret).update('agentpack csrf key v1').digest();
  }

  /** A new session; the id goes into the cookie and nowhere else. */
  async create(userId: string): Promise<{ id: string; session: Session }> {
    const now = this.now();
    await this.purgeExpired(now);
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      userId,
      idHash: hashId(id),
      csrfToken: this.csrfTokenFor(id),
      expiresAt: now + SESSION_TTL_MS,
    };
    await this.store.insertSession({
      idHash: session.idHash,
      userId,
      createdAt: now,
      expiresAt: session.expiresAt,
    });
    return { id, session };
  }

  /** The live session for a cookie value; null for anything malformed, unknown or expired. */
  async find(id: string): Promise<Session | null> {
    if (!ID_PATTERN.test(id)) return null;
    const row = await this.store.findSession(hashId(id));
    if (row === undefined || row.expiresAt <= this.now()) return null;
    return {
      userId: row.userId,
      idHash: row.idHash,
      csrfToken: this.csrfTokenFor(id),
      expiresAt: row.expiresAt,
    };
  }

  async delete(idHash: string): Promise<void> {
    await this.store.deleteSession(idHash);
  }

  private csrfTokenFor(id: string): string {
    return createHmac('sha256', this.csrfKey).update(id).digest('base64url');
  }

  private async purgeExpired(now: number): Promise<void> {
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    await this.store.deleteExpiredSessions(now);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(presented);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
