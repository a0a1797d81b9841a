/** Entry names for display. The naming rules are in common/validate.ts (entryNameProblem). */

/** Decodes a name for display: UTF-8 when the entry says so, otherwise CP437's ASCII subset. */
export function decodeEntryName(raw: Buffer, utf8: boolean): string {
  return utf8 ? raw.toString('utf8') : raw.toString('latin1');
}

/** A name as it appears in messages: quoted, control characters escaped, long names cut. */
export function displayName(name: string): string {
  const shown = name.length > 120 ? `${name.slice(0, 117)}...` : name;
  return JSON.stringify(shown);
}
