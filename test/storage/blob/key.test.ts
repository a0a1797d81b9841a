import { describe, expect, it } from 'vitest';
import { AgentpackError } from '../../../src/common/errors.js';
import {
  blobKeyProblem,
  validateBlobKey,
  validateBlobPrefix,
  validateRange,
} from '../../../src/storage/blob/key.js';

describe('blobKeyProblem', () => {
  for (const key of [
    'a',
    'agents/java/1.2.3/agent.jar',
    'bundles/org_1/B-2.jar',
    '.hidden/x',
    'a..b',
    'k'.repeat(512),
  ]) {
    it(`accepts ${JSON.stringify(key.length > 40 ? `${key.slice(0, 8)}... (${key.length})` : key)}`, () => {
      expect(blobKeyProblem(key)).toBeUndefined();
    });
  }

  for (const [key, message] of [
    ['', 'blob key must be 1-512 characters, got 0'],
    ['k'.repeat(513), 'blob key must be 1-512 characters, got 513'],
    ['/x', 'blob key must be relative, got "/x"'],
    ['../x', `blob key must not contain a '..' segment, got "../x"`],
    ['a/../b', `blob key must not contain a '..' segment, got "a/../b"`],
    ['./a', `blob key must not contain a '.' segment, got "./a"`],
    ['a//b', 'blob key must not contain an empty segment, got "a//b"'],
    ['a/', 'blob key must not contain an empty segment, got "a/"'],
    ['a\\b', `blob key may only contain A-Z a-z 0-9 . _ - and '/', found "\\\\" in "a\\\\b"`],
    ['a b', `blob key may only contain A-Z a-z 0-9 . _ - and '/', found " " in "a b"`],
    ['x~meta', `blob key may only contain A-Z a-z 0-9 . _ - and '/', found "~" in "x~meta"`],
    ['é', `blob key may only contain A-Z a-z 0-9 . _ - and '/', found "é" in "é"`],
    ['a\u0000b', `blob key may only contain A-Z a-z 0-9 . _ - and '/', found "\\u0000" in "a\\u0000b"`],
  ] as const) {
    it(`refuses ${JSON.stringify(key.length > 40 ? `${key.slice(0, 8)}... (${key.length})` : key)}: ${message}`, () => {
      expect(blobKeyProblem(key)).toBe(message);
    });
  }
});

describe('validateBlobKey', () => {
  it('returns a valid key and throws a 400 AgentpackError carrying the problem otherwise', () => {
    expect(validateBlobKey('ok/key')).toBe('ok/key');
    const error = (() => {
      try {
        validateBlobKey('../etc/passwd');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AgentpackError);
    expect(error).toMatchObject({ code: 'BLOB_KEY_INVALID', status: 400 });
    expect((error as Error).message).toContain("'..' segment");
  });
});

describe('validateBlobPrefix', () => {
  it('accepts the empty prefix, a key, and a key with a trailing slash', () => {
    expect(validateBlobPrefix('')).toBe('');
    expect(validateBlobPrefix('bundles/org1')).toBe('bundles/org1');
    expect(validateBlobPrefix('bundles/')).toBe('bundles/');
  });

  it('refuses anything a key could not start with', () => {
    for (const prefix of ['/', '../', 'a//', '/a', 'a b/']) {
      expect(() => validateBlobPrefix(prefix)).toThrow(AgentpackError);
    }
  });
});

describe('validateRange', () => {
  it('accepts inclusive ranges of safe integers', () => {
    expect(validateRange({ start: 0, end: 0 })).toEqual({ start: 0, end: 0 });
    expect(validateRange({ start: 5, end: 2 ** 40 })).toEqual({ start: 5, end: 2 ** 40 });
  });

  for (const range of [
    { start: -1, end: 3 },
    { start: 4, end: 3 },
    { start: 0.5, end: 3 },
    { start: 0, end: Number.NaN },
  ]) {
    it(`refuses ${range.start}-${range.end} with a 400 naming it`, () => {
      expect(() => validateRange(range)).toThrow(`got ${range.start}-${range.end}`);
    });
  }
});
