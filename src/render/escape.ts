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
