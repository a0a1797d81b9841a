/**
 * Pure checks on entry names, done on the raw bytes so no decoding step can hide a `..`.
 * Returns a reason, or null when the name is acceptable.
 */
export function entryNameProblem(raw: Buffer): string | null {
  if (raw.length === 0) return 'has an empty name';
  if (raw.includes(0)) return 'has a NUL byte in its name';
  if (raw.includes(0x5c)) return 'has a backslash in its name';
  if (raw[0] === 0x2f) return 'has an absolute name';
  if (raw.length >= 2 && raw[1] === 0x3a && isAsciiLetter(raw[0] as number))
    return 'has an absolute name (drive letter)';
  const segments = raw.toString('latin1').split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '..') return "has a '..' segment in its name";
    if (segment === '' && i !== segments.length - 1) return 'has an empty segment in its name';
  }
  return null;
}

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
