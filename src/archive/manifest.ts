/** Reads the main section of a JAR manifest (continuation lines start with one space). */
export function parseManifestMainSection(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  let lastKey: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') break;
    if (line.startsWith(' ') && lastKey !== undefined) {
      attributes.set(lastKey, `${attributes.get(lastKey) ?? ''}${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(': ');
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon);
    attributes.set(lastKey, line.slice(colon + 2));
  }
  return attributes;
}

const SIGNATURE_FILE = /^META-INF\/[^/]+\.SF$/i;
const SIGNATURE_BLOCK = /^META-INF\/[^/]+\.(RSA|DSA|EC)$/i;

/** A JAR counts as signed when it holds a signature file and a signature block beside it. */
export function signatureFiles(names: readonly string[]): string[] {
  const files = names.filter((name) => SIGNATURE_FILE.test(name));
  const blocks = new Set(
    names
      .filter((name) => SIGNATURE_BLOCK.test(name))
      .map((name) => name.replace(/\.[^.]+$/, '').toUpperCase()),
  );
  return files.filter((name) => blocks.has(name.replace(/\.SF$/i, '').toUpperCase()));
}
