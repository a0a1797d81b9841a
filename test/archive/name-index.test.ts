/**
 * The one-pass name check + hash the directory checks rely on (it must flag every name
 * entryNameProblem rejects), and the name index: duplicates as names decode, lookups by bytes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectArchive } from '../../src/archive/inspect.js';
import { checkedNameHash, NON_ASCII_NAME, SUSPECT_NAME } from '../../src/archive/name-index.js';
import { ArchiveError } from '../../src/common/errors.js';
import { entryNameProblem } from '../../src/common/validate.js';
import { buildZip, FLAG_UTF8 } from '../helpers/zip-writer.mjs';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-name-index-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hashOf = (name: Buffer) => checkedNameHash(name, 0, name.length);

/** Deterministic pseudo-random names from the bytes that matter to the rules. */
function* fuzzNames(count: number): Generator<Buffer> {
  const alphabet = [0x2f, 0x2e, 0x61, 0x62, 0x5c, 0x00, 0x3a, 0x43, 0xc3, 0xa9, 0xff];
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 8;
  };
  for (let n = 0; n < count; n++) {
    const length = next() % 9;
    yield Buffer.from(Array.from({ length }, () => alphabet[next() % alphabet.length] as number));
  }
}

describe('checkedNameHash', () => {
  it('flags every name that entryNameProblem rejects (50,000 generated names)', () => {
    let rejected = 0;
    for (const name of fuzzNames(50_000)) {
      if (entryNameProblem(name) === null) continue;
      rejected++;
      expect(hashOf(name), JSON.stringify(name.toString('latin1'))).toBe(SUSPECT_NAME);
    }
    expect(rejected).toBeGreaterThan(10_000);
  });

  it('hashes acceptable ASCII names to a non-negative number, the same for the same bytes', () => {
    const a = hashOf(Buffer.from('com/vendor/agent/Main.class'));
    expect(a).toBeGreaterThanOrEqual(0);
    expect(hashOf(Buffer.from('com/vendor/agent/Main.class'))).toBe(a);
    expect(hashOf(Buffer.from('a../b'))).toBeGreaterThanOrEqual(0);
    expect(hashOf(Buffer.from('données/café.txt'))).toBe(NON_ASCII_NAME);
  });
});

describe('names across entries', () => {
  async function base(name: string, entries: Parameters<typeof buildZip>[0]['entries']): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, buildZip({ entries }));
    return path;
  }

  it('rejects two names that decode alike though their bytes differ (UTF-8 flag vs CP437/Latin-1)', async () => {
    const path = await base('decode-alike.zip', [
      { name: Buffer.from('café.txt', 'utf8'), data: 'a', flags: FLAG_UTF8 },
      { name: Buffer.from('café.txt', 'latin1'), data: 'b' },
    ]);
    await expect(inspectArchive(path)).rejects.toThrow(new ArchiveError('duplicate entry name "café.txt"'));
  });

  it('reports the first name with a problem, in directory order', async () => {
    const path = await base('first-problem.zip', [
      { name: 'ok.txt', data: 'a' },
      { name: 'x/../y', data: 'b' },
      { name: 'ok.txt', data: 'c' },
    ]);
    await expect(inspectArchive(path)).rejects.toThrow(/^entry "x\/..\/y" has a '..' segment in its name$/);
  });

  it('finds entries by name for the summary and the splice, ASCII or not', async () => {
    const path = await base('lookups.zip', [
      { name: 'a.txt', data: 'a' },
      { name: Buffer.from('dossier/été.txt', 'utf8'), data: 'b', flags: FLAG_UTF8 },
    ]);
    const { structure, summary } = await inspectArchive(path, { configPath: 'dossier/été.txt' });
    expect(summary.configEntry).toEqual({ path: 'dossier/été.txt', present: true });
    const names = structure.entries.nameIndex();
    expect(names.find('a.txt')).toBe(0);
    expect(names.find('dossier/été.txt')).toBe(1);
    expect(names.findRaw(Buffer.from('dossier/été.txt', 'utf8'))).toBe(1);
    expect(names.find('b.txt')).toBe(-1);
  });
});
