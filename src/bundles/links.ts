import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed link grants: one bundle identity of one organization, in one format, until a time. */
export interface LinkClaims {
  readonly orgId: string;
  readonly bundleId: string;
  readonly format: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export type LinkCheck =
  | { readonly ok: true; readonly claims: LinkClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'tampered' | 'expired' };

const VERSION = 'l1';
const MAX_TOKEN = 512;

/**
 * Tokens are `l1.<payload>.<mac>`: base64url JSON claims and an HMAC-SHA256 over version and
 * payload. Stateless, so any instance holding the link key can check them; the key lives with
 * the service's other system secrets, never in a token.
 */
export function signLink(claims: LinkClaims, key: Buffer): string {
  const payload = Buffer.from(
    JSON.stringify([claims.orgId, claims.bundleId, claims.format, claims.expiresAt]),
  ).toString('base64url');
  return `${VERSION}.${payload}.${mac(key, payload)}`;
}

export function checkLink(token: string, key: Buffer, nowSeconds: number): LinkCheck {
  if (token.length > MAX_TOKEN) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'malformed' };
  const [, payload, given] = parts as [string, string, string];
  const expected = Buffer.from(mac(key, payload));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
    return { ok: false, reason: 'tampered' };
  const claims = decodeClaims(payload);
  if (claims === null) return { ok: false, reason: 'malformed' };
  if (claims.expiresAt <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(`${VERSION}.${payload}`).digest('base64url');
}

function decodeClaims(payload: string): LinkClaims | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 4) return null;
    const [orgId, bundleId, format, expiresAt] = value as unknown[];
    if (typeof orgId !== 'string' || typeof bundleId !== 'string' || typeof format !== 'string') return null;
    if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt)) return null;
    return { orgId, bundleId, format, expiresAt };
  } catch {
    return null;
  }
}
