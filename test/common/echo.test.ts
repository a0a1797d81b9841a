import { describe, expect, it } from 'vitest';
import { echo } from '../../src/common/validate.js';
import { mintKey } from '../../src/credentials/key-format.js';

describe('echo', () => {
  it('cuts a key pasted into the wrong place down to its key id', () => {
    const key = mintKey('api-key');
    expect(echo(`x ${key.text} y`)).toBe(`x ${key.keyId}_... y`);
  });

  it('shows control characters as ? and shortens long input', () => {
    expect(echo('a\nb\u0000c')).toBe('a?b?c');
    expect(echo('x'.repeat(100))).toBe(`${'x'.repeat(57)}...`);
  });
});
