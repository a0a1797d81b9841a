import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkLink, signLink } from '../../src/bundles/links.js';

const key = randomBytes(32);
const claims = {
  orgId: '0b9f6c1e-0000-4000-8000-000000000001',
  bundleId: 'a'.repeat(64),
  format: 'jar',
  expiresAt: 2_000,
};

describe('signed links', () => {
  it('round-trips the claims before expiry', () => {
    expect(checkLink(signLink(claims, key), key, 1_999)).toEqual({ ok: true, claims });
  });

  it('rejects an expired token', () => {
    expect(checkLink(signLink(claims, key), key, 2_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a token whose payload was edited', () => {
    const [version, , mac] = signLink(claims, key).split('.');
    const forged = Buffer.from(
      JSON.stringify([claims.orgId, claims.bundleId, claims.format, 9_999_999]),
    ).toString('base64url');
    expect(checkLink(`${version}.${forged}.${mac}`, key, 1_000)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('rejects a token signed with another key', () => {
    expect(checkLink(signLink(claims, randomBytes(32)), key, 1_000)).toEqual({
      ok: false,
      reason: 'tampered',
    });
  });

  it('rejects malformed tokens without throwing', () => {
    for (const token of ['', 'l1', 'l1.a', 'l2.a.b', 'x'.repeat(600), 'l1..']) {
      expect(checkLink(token, key, 1_000).ok, token).toBe(false);
    }
  });
});
