import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * What the database keeps to verify a key: SHA-256 of the whole key text. The key carries
 * 142 bits of entropy, so a fast hash is enough; a slow one would only slow every request.
 */
export function keyDigest(keyText: string): string {
  return createHash('sha256').update(keyText, 'utf8').digest('base64');
}

/** Compares a key with a stored digest in constant time (both sides are 32 bytes). */
export function digestMatches(keyText: string, storedDigest: string): boolean {
  const expected = Buffer.from(storedDigest, 'base64');
  const actual = createHash('sha256').update(keyText, 'utf8').digest();
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(actual, expected);
}

/** Burns the same work as a real comparison when there is nothing to compare against. */
export function digestMatchesNothing(keyText: string): false {
  digestMatches(keyText, DUMMY_DIGEST);
  return false;
}

const DUMMY_DIGEST = keyDigest('agentpack: no such key');
