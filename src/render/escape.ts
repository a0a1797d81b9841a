/**
 * Escaping for the config formats agentpack writes. Each function is total (any string in,
 * a safe token out) and pure, so it can be tested exhaustively on its own.
 */

/** Characters `java.util.Properties` treats as syntax; escaped exactly as `Properties.store` does. */
const propertiesEscapes: Record<string, string> = {
  '\\': '\\\\',
  '=': '\\=',
  ':': '\\:',
  '#': '\\#',
  '!': '\\!',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\f': '\\f',
};

/**
 * A `.properties` key: every space is escaped, because an unescaped space ends the key.
 * The result is pure ASCII, so it reads the same as ISO-8859-1 (`load(InputStream)`) or UTF-8.
 */
export function escapePropertiesKey(key: string): string {
  return escapeProperties(key, true);
}

/**
 * A `.properties` value: only a leading space needs escaping (`load` skips whitespace after the
 * separator up to the first escaped or visible character; trailing spaces are kept as they are).
 */
export function escapePropertiesValue(value: string): string {
  return escapeProperties(value, false);
}

function escapeProperties(text: string, escapeEverySpace: boolean): string {
  let out = '';
  // UTF-16 code units on purpose: Java's `\uXXXX` is a char, so an astral character becomes
  // its surrogate pair, which `Properties.load` joins back into the same string.
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const code = text.charCodeAt(i);
    if (char === ' ') out += escapeEverySpace || i === 0 ? '\\ ' : ' ';
    else if (propertiesEscapes[char] !== undefined) out += propertiesEscapes[char];
    else if (code < 0x20 || code > 0x7e) out += unicodeEscape(code);
    else out += char;
  }
  return out;
}

const yamlEscapes: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/**
 * A YAML double-quoted scalar. Always quoted, so no value can turn into a number, a boolean,
 * null, an anchor or a tag in any YAML version. Anything that is not printable in YAML, or that
 * a YAML 1.1 reader would take as a line break (U+0085, U+2028, U+2029), or a BOM, is written
 * as `\uXXXX`; other characters, astral ones included, are written as themselves (UTF-8).
 */
export function quoteYamlString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (yamlEscapes[char] !== undefined) out += yamlEscapes[char];
    else if (yamlNeedsUnicodeEscape(code)) out += unicodeEscape(code);
    else out += char;
  }
  return `${out}"`;
}

function yamlNeedsUnicodeEscape(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0xd800 && code <= 0xdfff) || // a lone surrogate: not encodable as UTF-8
    code === 0xfeff ||
    code === 0xfffe ||
    code === 0xffff
  );
}

/** `\uXXXX` for a code unit (or a BMP code point), upper-case hex as Java writes it. */
function unicodeEscape(code: number): string {
  return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Characters XML 1.0 can hold (its `Char` production). Anything else (most C0 controls, lone
 * surrogates, U+FFFE, U+FFFF) has no representation at all, not even as a character reference,
 * so such a value is refused rather than changed.
 */
function xmlAllows(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

const xmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // As references, whitespace survives both attribute-value normalization (which turns a
  // literal tab or line break into a space) and end-of-line handling (which drops a literal CR).
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};

/**
 * An XML 1.0 text or attribute value (either quote style). With `<`, `>` and `&` always escaped,
 * no value can open or close an element, comment, CDATA section or processing instruction, nor
 * end a CDATA section (`]]>`). A character XML 1.0 cannot hold throws, naming its code point.
 */
export function escapeXml(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (!xmlAllows(code)) throw new UnwritableValue(`U+${hex(code)} cannot be written in XML 1.0`);
    out += xmlEscapes[char] ?? char;
  }
  return out;
}

/**
 * A JSON string literal, quotes included: the template writes `"url": {{api.url}}`. Lone
 * surrogates are written as `\uXXXX` (JSON.stringify's well-formed output), and so are U+2028 and
 * U+2029, which older JavaScript parsers took as line breaks inside a string.
 */
export function quoteJsonString(text: string): string {
  return JSON.stringify(text).replace(/[\u2028\u2029]/g, (c) => `\\u${hex(c.charCodeAt(0))}`);
}

/**
 * An `env` value, written bare after `KEY=`. The same line must read back byte for byte in POSIX
 * `sh` (`. file`, which strips quotes and expands `$`, backquotes, `~` and globs) and in
 * `docker --env-file` (which keeps the rest of the line literally, quotes included): no quoting
 * can please both, so only characters that mean nothing to either are allowed, and anything else
 * is refused with its name. Allowed: ASCII letters and digits and `_ . / : @ % + , = -`, which
 * covers URLs without a query, host names, ports, user names and base64 keys.
 */
export function envValue(text: string): string {
  const bad = /[^A-Za-z0-9_./:@%+,=-]/.exec(text);
  if (bad !== null) {
    const code = bad[0].codePointAt(0) as number;
    throw new UnwritableValue(
      `${code >= 0x21 && code <= 0x7e ? `'${bad[0]}'` : `U+${hex(code)}`} cannot be written in an env file ` +
        '(allowed: letters, digits and _ . / : @ % + , = -)',
    );
  }
  return text;
}

/** An `env` name: what both `sh` and docker accept as a variable name. */
export function envKey(text: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) {
    throw new UnwritableValue(
      `'${text.slice(0, 40)}' is not an env variable name (letters, digits and _, not starting with a digit)`,
    );
  }
  return text;
}

/** A value a format cannot hold at all; the renderer reports it with the setting's name. */
export class UnwritableValue extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwritableValue';
  }
}

function hex(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}
