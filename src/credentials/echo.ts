/**
 * User input quoted back in an error message: control characters shown as '?', anything
 * shaped like a key cut to its key id (a key pasted into the wrong option must not reach a
 * terminal log), and at most 60 characters.
 */
export function echo(text: string): string {
  const clean = text
    .replace(/\b(ap[osu]_[0-9A-Za-z]{12})_[0-9A-Za-z]*/g, '$1_...')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 57)}...` : clean;
}
