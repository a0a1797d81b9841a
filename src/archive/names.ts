/**
 * Pure checks on entry names, done on the raw bytes so no decoding step can hide a `..`.
 * Returns a reason, or null when the name is acceptable. `start`/`end` select the name inside a
 * larger buffer (a central directory), so checking needs no slice per entry.
 */
export function entryNameProblem(raw: Buffer, start = 0, end = raw.length): string | null {
  const length = end - start;
  if (length === 0) return 'has an empty name';
  if (raw[start] === SLASH) return 'has an absolute name';
  if (length >= 2 && raw[start + 1] === 0x3a && isAsciiLetter(raw[start] as number))
    return 'has an absolute name (drive letter)';
  // One pass over the bytes, segment by segment: no string is built for a name that is fine.
  let segmentStart = start;
  for (let i = start; i <= end; i++) {
    const byte = i < end ? (raw[i] as number) : SLASH;
    if (byte === 0) return 'has a NUL byte in its name';
    if (byte === BACKSLASH) return 'has a backslash in its name';
    if (byte !== SLASH) continue;
    const segmentLength = i - segmentStart;
    if (segmentLength === 2 && raw[segmentStart] === DOT && raw[segmentStart + 1] === DOT)
      return "has a '..' segment in its name";
    if (segmentLength === 0 && i < end) return 'has an empty segment in its name';
    segmentStart = i + 1;
  }
  return null;
}

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

function isAsciiLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/** Decodes a name for display: UTF-8 when the entry says so, otherwise CP437's ASCII subset. */
export function decodeEntryName(raw: Buffer, utf8: boolean): string {
  return utf8 ? raw.toString('utf8') : raw.toString('latin1');
}

/** A name as it appears in messages: quoted, control characters escaped, long names cut. */
export function displayName(name: string): string {
  const shown = name.length > 120 ? `${name.slice(0, 117)}...` : name;
  return JSON.stringify(shown);
}
