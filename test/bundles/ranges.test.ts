import { describe, expect, it } from 'vitest';
import { parseRange, partsFor } from '../../src/bundles/ranges.js';

describe('parseRange', () => {
  it('returns none when there is no header', () => {
    expect(parseRange(undefined, 100)).toEqual({ kind: 'none' });
  });

  it('reads START-END, START- and -SUFFIX forms', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'range', range: { start: 0, end: 9 } });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'range', range: { start: 90, end: 99 } });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'range', range: { start: 90, end: 99 } });
    expect(parseRange('bytes=-500', 100)).toEqual({ kind: 'range', range: { start: 0, end: 99 } });
  });

  it('clamps an end past the last byte', () => {
    expect(parseRange('bytes=50-1000', 100)).toEqual({ kind: 'range', range: { start: 50, end: 99 } });
  });

  it('answers unsatisfiable for a start at or past the end, or an empty suffix', () => {
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
  });

  it('serves the whole representation for several ranges', () => {
    expect(parseRange('bytes=0-1, 5-6', 100)).toEqual({ kind: 'none' });
  });

  it('reports malformed headers with a reason', () => {
    for (const header of ['items=0-1', 'bytes=a-b', 'bytes=-', 'bytes=5-2', `bytes=${'1'.repeat(300)}-`]) {
      const result = parseRange(header, 100);
      expect(result.kind, header).toBe('malformed');
    }
  });
});

describe('partsFor', () => {
  const tail = Buffer.from('TAILBYTES');

  it('splits a range that spans prefix and tail', () => {
    expect(partsFor(10, tail, { start: 8, end: 12 })).toEqual([
      { source: 'base', start: 8, end: 9 },
      { source: 'tail', bytes: Buffer.from('TAI') },
    ]);
  });

  it('reads only the prefix or only the tail when the range lies within one', () => {
    expect(partsFor(10, tail, { start: 0, end: 4 })).toEqual([{ source: 'base', start: 0, end: 4 }]);
    expect(partsFor(10, tail, { start: 12, end: 18 })).toEqual([
      { source: 'tail', bytes: Buffer.from('ILBYTES') },
    ]);
  });
});
