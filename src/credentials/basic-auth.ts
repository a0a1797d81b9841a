import type { HeaderBag } from './types.js';

/** Longer than any honest header: e-mail (254) + key (47), base64, plus a scheme. */
export const MAX_HEADER_LENGTH = 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** One header value: absent, repeated, empty or oversized headers give null. */
export function singleHeader(headers: HeaderBag, name: string): string | null {
  const value = headers[name];
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed.length === 0 || trimmed.length > MAX_HEADER_LENGTH ? null : trimmed;
}

/**
 * `Authorization: base64(<user>:<key>)`, with or without the `Basic ` scheme. Null for
 * anything else: not base64, not UTF-8, no colon, an empty side. Never throws.
 */
export function parseBasicPair(value: string | null): { user: string; key: string } | null {
  if (value === null) return null;
  const encoded = value.replace(/^Basic\s+/i, '');
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) return null;
  const bytes = Buffer.from(encoded, 'base64');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return null;
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return null;
  return { user: text.slice(0, colon), key: text.slice(colon + 1) };
}
