import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserPatternsModule } from '../common/validate.js';

/** One file under src/ui/static, held in memory (they are small) with its digest. */
export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  /** Quoted, for the ETag header. */
  readonly etag: string;
  /** Short digest, used as `?v=` so a changed file gets a new URL. */
  readonly version: string;
}

export interface Assets {
  /** The asset at a path such as `js/keys.js`; undefined for anything not in the table. */
  get(name: string): Asset | undefined;
  /** Its URL with the version: `/static/js/keys.js?v=0123abcd`. */
  url(name: string): string;
}

/** Served from memory, generated from common/validate.ts. */
export const GENERATED_PATTERNS = 'js/patterns.js';

const TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Where the static files live: beside this module when running from src/, or back in src/ui/static
 * when running the compiled dist/ (tsc copies no assets).
 */
export function staticDir(): string {
  const candidates = [
    new URL('./static/', import.meta.url),
    new URL('../../src/ui/static/', import.meta.url),
  ];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `ui: static assets not found; looked in ${candidates.map((c) => fileURLToPath(c)).join(' and ')}`,
  );
}

/**
 * Reads every servable file once. Requests are answered from this table only, so no request path
 * ever becomes a file system path.
 */
export async function loadAssets(dir: string = staticDir()): Promise<Assets> {
  const table = new Map<string, Asset>();
  const add = (name: string, body: Buffer) => {
    const type = TYPES[extname(name)];
    if (type === undefined) return;
    const digest = createHash('sha256').update(body).digest('hex');
    table.set(name, { body, type, etag: `"${digest}"`, version: digest.slice(0, 12) });
  };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    add(relative(dir, path).split(sep).join('/'), await readFile(path));
  }
  // The browser checks names with the server's own patterns: this module is written from
  // common/validate.ts rather than kept as a copy on disk.
  if (table.has(GENERATED_PATTERNS))
    throw new Error(`ui: ${GENERATED_PATTERNS} is generated; remove the file`);
  add(GENERATED_PATTERNS, Buffer.from(browserPatternsModule()));
  return {
    get: (name) => table.get(name),
    url(name) {
      const asset = table.get(name);
      if (asset === undefined) throw new Error(`ui: no static asset ${name}`);
      return `/static/${name}?v=${asset.version}`;
    },
  };
}
