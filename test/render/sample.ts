/** Values shaped like the real ones (see the key format in the design), shared by the render tests. */
export const sampleValues: Readonly<Record<string, string>> = Object.freeze({
  'api.url': 'https://agentpack.example.com',
  'api.api_key': 'apo_AbCdEf012345_abcdefghijklmnopqrstuvwx0A1b2C',
  'api.service_key': 'aps_ZyXwVu987654_ABCDEFGHIJKLMNOPQRSTUVWX9z8Y7x',
  'api.user_name': 'agent-org_7Hq2',
});

/**
 * Values chosen to break naive writers: every character either format treats as syntax,
 * line breaks of every kind, characters outside the BMP, and text that looks like YAML types.
 */
export const hostileValues: ReadonlyArray<readonly [label: string, value: string]> = [
  ['line breaks', 'line1\nline2\r\nline3\rline4\u0085line5\u2028line6\u2029end'],
  ['separators', 'a=b:c d=e:f'],
  ['comment starters', '#not a comment !nor this'],
  ['quotes', `"double" and 'single' and \`back\``],
  ['backslashes', '\\back\\slash\\n\\u0041\\'],
  ['leading and trailing spaces', '   padded   '],
  ['leading tab and form feed', '\t\f\u000b lead'],
  ['control characters', '\u0001\u0007\u001b\u007f\u0080\u009f'],
  ['unicode', 'ünïcödé ✓ 日本語 Ελληνικά'],
  ['emoji and astral', '😀 👩‍👩‍👧 𝄞 \u{10ffff}'],
  ['BOM and non-characters', '\ufeffbom \ufffe \uffff'],
  ['HTML-sensitive', '<a href="x">&amp; = &#x3D; \'</a>'],
  ['template syntax', '{{api.url}} {{{x}}} $' + '{HOME} %(x)s'],
  ['YAML look-alikes', 'yes'],
  ['YAML null', '~'],
  ['YAML number', '0x1F'],
  ['YAML syntax', '- [a, {b: c}] | > &anchor *alias !!str %TAG @ ? key: value # c'],
  ['empty', ''],
  ['only a space', ' '],
  ['trailing backslash', 'ends with a backslash\\'],
  ['very long', 'x=y:z\\#! 😀\n'.repeat(8 * 1024)],
];
