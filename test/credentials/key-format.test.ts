import { describe, expect, it } from 'vitest';
import { BASE62, crc32Base62 } from '../../src/credentials/base62.js';
import {
  KEY_LENGTH,
  KEY_PATTERN,
  keyIdOfKeyText,
  mintKey,
  parseKey,
} from '../../src/credentials/key-format.js';

describe('mintKey', () => {
  it('writes <prefix>_<publicId>_<secret><checksum> with the prefix of each purpose', () => {
    expect(mintKey('api-key').text).toMatch(/^apo_[0-9A-Za-z]{12}_[0-9A-Za-z]{30}$/);
    expect(mintKey('agent-service-key').text).toMatch(/^aps_/);
    expect(mintKey('personal-service-key').text).toMatch(/^apu_/);
    expect(mintKey('api-key').text).toHaveLength(KEY_LENGTH);
  });

  it('ends with the base62 CRC32 of everything before it', () => {
    const key = mintKey('api-key');
    expect(key.text.slice(-6)).toBe(crc32Base62(key.text.slice(0, -6)));
  });

  it('names the key by everything before the second underscore', () => {
    const key = mintKey('agent-service-key');
    expect(key.keyId).toBe(key.text.split('_').slice(0, 2).join('_'));
    expect(key.text.startsWith(`${key.keyId}_${key.secret}`)).toBe(true);
    expect(key.secret).toHaveLength(24);
  });

  it('draws every key and public id afresh', () => {
    const keys = Array.from({ length: 2000 }, () => mintKey('api-key'));
    expect(new Set(keys.map((k) => k.secret)).size).toBe(2000);
    expect(new Set(keys.map((k) => k.publicId)).size).toBe(2000);
  });

  it('uses the whole base62 alphabet in secrets', () => {
    const seen = new Set(Array.from({ length: 500 }, () => mintKey('api-key').secret).join(''));
    expect(seen.size).toBe(62);
  });

  it('is found by the documented secret-scanner pattern', () => {
    expect(KEY_PATTERN.test(`token=${mintKey('personal-service-key').text};`)).toBe(true);
  });
});

describe('parseKey', () => {
  it('gives back the parts of a minted key', () => {
    const key = mintKey('api-key');
    expect(parseKey(key.text)).toEqual(key);
  });

  it('rejects every single-character typo by its checksum', () => {
    const key = mintKey('agent-service-key').text;
    const start = key.indexOf('_', 4) + 1;
    for (let i = start; i < key.length; i++) {
      const replacement = BASE62[(BASE62.indexOf(key[i] as string) + 1) % 62] as string;
      expect(parseKey(`${key.slice(0, i)}${replacement}${key.slice(i + 1)}`), `position ${i}`).toBeNull();
    }
  });

  it('rejects two swapped neighbours', () => {
    const key = mintKey('api-key').text;
    const i = key.length - 10;
    const swapped = `${key.slice(0, i)}${key[i + 1]}${key[i]}${key.slice(i + 2)}`;
    expect(swapped === key || parseKey(swapped) === null).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['an unknown prefix', 'apx_123456789012_123456789012345678901234567890'],
    ['a short key', 'apo_1234'],
    ['a key with a space', ` ${'a'.repeat(46)}`],
    ['a huge text', 'apo_'.repeat(10_000)],
  ])('returns null for %s', (_name, text) => {
    expect(parseKey(text)).toBeNull();
    expect(keyIdOfKeyText(text)).toBeNull();
  });

  it('rejects a key whose prefix was changed, since the checksum covers it', () => {
    const key = mintKey('api-key').text;
    expect(parseKey(`aps${key.slice(3)}`)).toBeNull();
  });
});
