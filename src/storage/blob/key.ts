import { type AgentpackError, BadRequestError, RangeNotSatisfiableError } from '../../common/errors.js';
import type { ByteRange } from './types.js';

export const MAX_BLOB_KEY_LENGTH = 512;

const SEGMENT = /^[A-Za-z0-9._-]+$/;

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

/**
 * Why `key` cannot name a blob, or undefined when it can. Keys become file paths and S3 object
 * names, so only a conservative alphabet is accepted: nothing that a path or URL would reinterpret.
 */
export function blobKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > MAX_BLOB_KEY_LENGTH) {
    return `blob key must be 1-${MAX_BLOB_KEY_LENGTH} characters, got ${key.length}`;
  }
  if (key.startsWith('/')) return `blob key must be relative, got ${quote(key)}`;
  for (const segment of key.split('/')) {
    if (segment === '') return `blob key must not contain an empty segment, got ${quote(key)}`;
    if (segment === '.' || segment === '..') {
      return `blob key must not contain a '${segment}' segment, got ${quote(key)}`;
    }
    if (!SEGMENT.test(segment)) {
      const bad = [...segment].find((c) => !SEGMENT.test(c)) ?? '';
      return `blob key may only contain A-Z a-z 0-9 . _ - and '/', found ${quote(bad)} in ${quote(key)}`;
    }
  }
  return undefined;
}

/** Returns `key` when valid; otherwise throws a 400 that says what was wrong with it. */
export function validateBlobKey(key: string): string {
  const problem = blobKeyProblem(key);
  if (problem !== undefined) throw new BadRequestError('BLOB_KEY_INVALID', problem);
  return key;
}

/** A list prefix is empty, a key, or a key followed by '/'. */
export function validateBlobPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  validateBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** Rejects ranges no backend could honour the same way (negative, fractional, reversed). */
export function validateRange(range: ByteRange): ByteRange {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new BadRequestError(
      'BLOB_RANGE_INVALID',
      `expected a byte range with integers 0 <= start <= end, got ${start}-${end}`,
    );
  }
  return range;
}

export function rangeNotSatisfiable(key: string, range: ByteRange, size: number): AgentpackError {
  return new RangeNotSatisfiableError(
    `expected a range starting before byte ${size} of ${quote(key)}, got ${range.start}-${range.end}`,
  );
}
