import { describe, expect, it } from 'vitest';
import { escapePropertiesKey, escapePropertiesValue, quoteYamlString } from '../../src/render/escape.js';

describe('escapePropertiesValue', () => {
  it.each([
    ['plain', 'plain'],
    ['a=b:c', 'a\\=b\\:c'],
    ['#x !y', '\\#x \\!y'],
    ['back\\slash\\', 'back\\\\slash\\\\'],
    ['  two leading', '\\  two leading'],
    ['trailing  ', 'trailing  '],
    ['\t\n\r\f', '\\t\\n\\r\\f'],
    ['\u0001\u007f', '\\u0001\\u007F'],
    ['é', '\\u00E9'],
    ['😀', '\\uD83D\\uDE00'],
    ['&<>"\'', '&<>"\''],
  ])('writes %j as %j', (input, expected) => {
    expect(escapePropertiesValue(input)).toBe(expected);
  });
});

describe('escapePropertiesKey', () => {
  it('escapes every space, not only a leading one, because a space ends a key', () => {
    expect(escapePropertiesKey(' a b ')).toBe('\\ a\\ b\\ ');
  });

  it('escapes separators and comment starters like a value', () => {
    expect(escapePropertiesKey('k=v:w#x!y')).toBe('k\\=v\\:w\\#x\\!y');
  });
});

describe('quoteYamlString', () => {
  it.each([
    ['plain', '"plain"'],
    ['yes', '"yes"'],
    ['', '""'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['a\nb\r\tc', '"a\\nb\\r\\tc"'],
    ['\u0000\u001b\u007f\u0085\u009f', '"\\u0000\\u001B\\u007F\\u0085\\u009F"'],
    ['\u2028\u2029\ufeff\ufffe\uffff', '"\\u2028\\u2029\\uFEFF\\uFFFE\\uFFFF"'],
    ['é 日本 😀 \u{10ffff}', '"é 日本 😀 \u{10ffff}"'],
    ['# not: a comment', '"# not: a comment"'],
    ['&amp;', '"&amp;"'],
  ])('writes %j as %j', (input, expected) => {
    expect(quoteYamlString(input)).toBe(expected);
  });

  it('escapes a lone surrogate rather than writing something UTF-8 cannot hold', () => {
    expect(quoteYamlString('a\ud800b')).toBe('"a\\uD800b"');
  });
});
