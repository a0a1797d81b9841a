/**
 * The validators for untrusted names: each one a pure function that returns null when the input
 * is fine, or a message saying what was expected and what was found (quoted through `echo`, so
 * no secret pasted into the wrong field comes back). Callers pick the error class.
 *
 * The patterns are also exported as source text: route schemas use it as their `pattern`, and
 * the browser gets it from /static/js/patterns.js, generated from this module (see ui/assets.ts),
 * so there is one copy of each rule.
 */

/**
 * Agent kinds: a lower-case letter, then up to 31 lower-case letters, digits or '-'. Kinds become
 * folder names and URL segments.
 */
export const KIND_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
/**
 * Versions: 1 to 64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit. The
 * '-' is escaped so the text also works as an HTML `pattern` attribute (compiled with the v flag).
 */
export const VERSION_PATTERN = '^[0-9A-Za-z][0-9A-Za-z._+\\-]{0,63}$';
/** A version in a download URL: a catalog version, or `latest`. */
export const VERSION_OR_LATEST_PATTERN = `^(latest|${VERSION_PATTERN.slice(1, -1)})$`;
/** Organization ids are lower-case UUIDs. */
export const ORG_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
/** Render setting names (`proxy.host`, free-form extras). */
export const SETTING_NAME_PATTERN = '^[A-Za-z0-9_.\\-]{1,128}$';

export const kindPattern = new RegExp(KIND_PATTERN);
export const versionPattern = new RegExp(VERSION_PATTERN);
export const orgIdPattern = new RegExp(ORG_ID_PATTERN);
export const settingNamePattern = new RegExp(SETTING_NAME_PATTERN);

/** The organization keys a person can see and rotate. */
export const KEY_PURPOSES = ['api-key', 'agent-service-key'] as const;
export type KeyPurposeName = (typeof KEY_PURPOSES)[number];

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

export function kindProblem(kind: unknown): string | null {
  if (typeof kind === 'string' && kindPattern.test(kind)) return null;
  const found = typeof kind === 'string' ? JSON.stringify(kind.slice(0, 40)) : typeof kind;
  return `agent kind must be 1 to 32 characters: a lower-case letter, then lower-case letters, digits or "-"; found ${found}`;
}

/** A catalog version name; `latest` is refused because URLs use it to mean the highest one. */
export function versionProblem(version: string): string | null {
  if (versionPattern.test(version) && version !== 'latest') return null;
  return `version must be 1-64 letters, digits, '.', '_', '+' or '-' (and not 'latest'), got ${JSON.stringify(version.slice(0, 70))}`;
}

export function orgIdProblem(orgId: string): string | null {
  if (orgIdPattern.test(orgId)) return null;
  return `expected an organization id (a lower-case UUID); found '${echo(orgId)}'`;
}

export function isOrgId(text: string): boolean {
  return orgIdPattern.test(text);
}

export function keyPurposeProblem(which: string): string | null {
  if ((KEY_PURPOSES as readonly string[]).includes(which)) return null;
  return `expected ${KEY_PURPOSES.join(' or ')}; found '${echo(which)}'`;
}

/**
 * Printable text such as an organization's name, after trimming: 1 to `max` characters, no
 * control characters. `what` names it in the message ("an organization name").
 */
export function printableTextProblem(text: string, what: string, max = 100): string | null {
  if (text.length === 0 || text.length > max) {
    return `${what} must have 1 to ${max} characters; found ${text.length}`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(text)) return `${what} must not hold control characters`;
  return null;
}

/**
 * Why a path cannot be written as an archive entry (a kind's target file), or null when it can.
 * The path goes into every bundle, so it gets the rules a hostile archive's entry names get, and
 * a few more a name we write ourselves can meet (no '.' segments, no folder).
 */
export function targetPathProblem(target: string): string | null {
  if (target.length === 0 || target.length > 255) return 'must be 1 to 255 characters long';
  if (target.includes('\\')) return 'must not contain a backslash';
  if (target.startsWith('/')) return 'must be relative (no leading "/")';
  if (/^[A-Za-z]:/.test(target)) return 'must be relative (no drive letter)';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(target)) return 'must not contain control characters';
  if (target.endsWith('/')) return 'must name a file, not a folder';
  const segments = target.split('/');
  if (segments.includes('..')) return 'must not contain a ".." segment';
  if (segments.includes('.') || segments.includes('')) return 'must not contain "." or empty segments';
  return null;
}

/**
 * Checks an archive entry name on its raw bytes, so no decoding step can hide a `..`. Returns a
 * reason, or null when the name is acceptable. `start`/`end` select the name inside a larger
 * buffer (a central directory), so checking needs no slice per entry.
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

/** The browser's copy of the patterns: an ES module served as /static/js/patterns.js. */
export function browserPatternsModule(): string {
  const lines = [
    '// Generated from src/common/validate.ts by the server; edit the patterns there.',
    `export const VERSION_PATTERN = new RegExp(${JSON.stringify(VERSION_PATTERN)});`,
    `export const KEY_PURPOSES = ${JSON.stringify(KEY_PURPOSES)};`,
  ];
  return `${lines.join('\n')}\n`;
}
