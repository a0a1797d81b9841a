/** A satisfiable single byte range, inclusive, as HTTP means it. */
export interface ResolvedRange {
  readonly start: number;
  readonly end: number;
}

export type RangeResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'range'; readonly range: ResolvedRange }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'malformed'; readonly reason: string };

const MAX_RANGE_HEADER = 200;

/**
 * Parses a `Range` header against a representation of `size` bytes (RFC 9110 14.1.2). Only a
 * single range is served; several ranges are answered with the whole representation, which
 * the RFC allows. Syntax errors are reported so the route can answer 400 with a reason.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };
  if (header.length > MAX_RANGE_HEADER) return { kind: 'malformed', reason: 'Range header is too long' };
  const match = /^bytes=(.*)$/i.exec(header.trim());
  if (match === null) return { kind: 'malformed', reason: "Range must look like 'bytes=START-END'" };
  const specs = (match[1] as string).split(',').map((s) => s.trim());
  if (specs.length > 1) return { kind: 'none' };
  const spec = specs[0] as string;
  const parts = /^(\d*)-(\d*)$/.exec(spec);
  if (parts === null || (parts[1] === '' && parts[2] === '')) {
    return { kind: 'malformed', reason: `Range '${spec.slice(0, 40)}' is not START-END, START- or -SUFFIX` };
  }
  const [, first, last] = parts as unknown as [string, string, string];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start)
    return { kind: 'malformed', reason: `Range end ${last} is before its start ${first}` };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end } };
}

/** A piece of a bundle: a range of the stored base (its unchanged prefix) or bytes of the tail. */
export type BundlePart =
  | { readonly source: 'base'; readonly start: number; readonly end: number }
  | { readonly source: 'tail'; readonly bytes: Buffer };

/** Maps a byte range of the bundle onto prefix and tail, so a range never reads more than it returns. */
export function partsFor(prefixLength: number, tail: Buffer, range: ResolvedRange): BundlePart[] {
  const parts: BundlePart[] = [];
  if (range.start < prefixLength)
    parts.push({ source: 'base', start: range.start, end: Math.min(range.end, prefixLength - 1) });
  if (range.end >= prefixLength) {
    const from = Math.max(range.start, prefixLength) - prefixLength;
    parts.push({ source: 'tail', bytes: tail.subarray(from, range.end - prefixLength + 1) });
  }
  return parts;
}
