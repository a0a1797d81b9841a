import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/common/errors.js';

const SRC = join(import.meta.dirname, '../../src');

async function sources(): Promise<{ path: string; text: string }[]> {
  const entries = await readdir(SRC, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name));
  return Promise.all(
    files.map(async (e) => ({
      path: join(e.parentPath, e.name),
      text: await readFile(join(e.parentPath, e.name), 'utf8'),
    })),
  );
}

describe('the error code table', () => {
  it('gives every code a status from 400 to 599 and a one-line meaning', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(info.status.length).toBeGreaterThan(0);
      for (const status of info.status) expect(status >= 400 && status < 600, code).toBe(true);
      expect(new Set(info.status).size, code).toBe(info.status.length);
      expect(info.meaning.length, code).toBeGreaterThan(0);
      expect(info.meaning, code).not.toContain('\n');
    }
  });

  // The compiler already refuses a code outside the table; this catches a code smuggled in as a
  // plain string (a cast, or a class built around AgentpackError's protected constructor).
  it('holds every code that src/ passes to an error class', async () => {
    const known = new Set<string>(Object.keys(ERROR_CODES));
    const pattern = /(?:new [A-Z]\w*Error|super)\(\s*'([A-Z][A-Z0-9_]+)'/g;
    const unknown: string[] = [];
    let seen = 0;
    for (const { path, text } of await sources()) {
      for (const match of text.matchAll(pattern)) {
        seen++;
        if (!known.has(match[1] as string)) unknown.push(`${path}: ${match[1]}`);
      }
    }
    expect(seen).toBeGreaterThan(40);
    expect(unknown).toEqual([]);
  });

  it('is the only place a new AgentpackError is made', async () => {
    const makers = (await sources()).filter(({ text }) => /new AgentpackError\(/.test(text));
    expect(makers.map(({ path }) => path)).toEqual([]);
  });

  it('types the codes as its keys', () => {
    const code: ErrorCode = 'NOT_FOUND';
    expect(ERROR_CODES[code].status).toEqual([404]);
  });
});
