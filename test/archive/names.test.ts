import { describe, expect, it } from 'vitest';
import { displayName } from '../../src/archive/names.js';
import { entryNameProblem } from '../../src/common/validate.js';

const problem = (name: string | Buffer) =>
  entryNameProblem(Buffer.isBuffer(name) ? name : Buffer.from(name, 'utf8'));

describe('entryNameProblem', () => {
  it.each([
    'a.txt',
    'META-INF/MANIFEST.MF',
    'lib/',
    'a/b/c.class',
    '..hidden',
    'a../b',
    'a/...',
    'données/café.txt',
    'C',
    'C_/x',
  ])('accepts %s', (name) => {
    expect(problem(name)).toBeNull();
  });

  it.each([
    ['', 'has an empty name'],
    ['/x', 'has an absolute name'],
    ['//server/share', 'has an absolute name'],
    ['C:/x', 'has an absolute name (drive letter)'],
    ['c:x', 'has an absolute name (drive letter)'],
    ['..', "has a '..' segment in its name"],
    ['../x', "has a '..' segment in its name"],
    ['a/../../x', "has a '..' segment in its name"],
    ['a/..', "has a '..' segment in its name"],
    ['a\\b', 'has a backslash in its name'],
    ['..\\x', 'has a backslash in its name'],
    ['a//b', 'has an empty segment in its name'],
  ])('rejects %j: %s', (name, reason) => {
    expect(problem(name)).toBe(reason);
  });

  it('rejects a NUL byte anywhere, even where a C reader would stop before it', () => {
    expect(problem(Buffer.from('ok.txt\0../../x', 'latin1'))).toBe('has a NUL byte in its name');
  });

  it('checks the raw bytes, whatever encoding the entry claims', () => {
    // Not valid UTF-8, so a decoder would replace bytes; the '..' segment is found before that.
    expect(problem(Buffer.from([0xff, 0xfe, 0x2f, 0x2e, 0x2e, 0x2f, 0x78]))).toBe(
      "has a '..' segment in its name",
    );
  });
});

describe('displayName', () => {
  it('quotes names and escapes control characters so a message stays one line', () => {
    expect(displayName('a\nb')).toBe('"a\\nb"');
    expect(displayName('x\u0000')).toBe('"x\\u0000"');
  });

  it('cuts very long names', () => {
    const shown = displayName('x'.repeat(5000));
    expect(shown.length).toBeLessThan(130);
    expect(shown.endsWith('..."')).toBe(true);
  });
});
