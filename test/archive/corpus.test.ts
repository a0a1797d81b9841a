/**
 * The archive corpus (test/corpus, written by test/corpus/generate.mjs): every failure/<fragment>.zip
 * must be rejected with a message containing <fragment>; every success/<case>.zip must be accepted
 * with the summary in <case>.json, and a bundle spliced from it must pass `unzip -t` and be a valid
 * base in turn.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/archive/bundle.js';
import { inspectArchive } from '../../src/archive/inspect.js';
import { ArchiveError } from '../../src/common/errors.js';
import { runTool } from '../helpers/java.js';
import { readDirectory } from './support.js';

const corpus = fileURLToPath(new URL('../corpus/', import.meta.url));
const list = (folder: string) =>
  readdirSync(join(corpus, folder))
    .filter((name) => name.endsWith('.zip'))
    .sort();
const failures = list('failure');
const successes = list('success');

interface Expected {
  entryCount: number;
  zip64: boolean;
  preambleBytes: number;
  manifestFirst: boolean;
  premainClass: string | null;
  signatureFileCount: number;
  commentBytes: number;
}

async function rejection(path: string): Promise<unknown> {
  return inspectArchive(path, { verifyData: true }).then(
    () => null,
    (error: unknown) => error,
  );
}

describe('test/corpus/failure', () => {
  it('holds a case for every hostile-archive rule', () => {
    expect(failures.length).toBeGreaterThanOrEqual(30);
  });

  it.each(failures)('rejects %s with a message containing its name', async (file) => {
    const error = await rejection(join(corpus, 'failure', file));
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as ArchiveError).message).toContain(file.slice(0, -'.zip'.length));
    expect((error as ArchiveError).message).not.toMatch(/\n/);
  });
});

describe('test/corpus/success', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentpack-corpus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds cases, each with its expected summary', () => {
    expect(successes.length).toBeGreaterThanOrEqual(7);
    for (const file of successes) {
      expect(readdirSync(join(corpus, 'success'))).toContain(file.replace(/\.zip$/, '.json'));
    }
  });

  it.each(successes)('accepts %s with the expected summary', async (file) => {
    const expected = JSON.parse(
      readFileSync(join(corpus, 'success', file.replace(/\.zip$/, '.json')), 'utf8'),
    ) as Expected;
    const { summary } = await inspectArchive(join(corpus, 'success', file), { verifyData: true });
    expect({
      entryCount: summary.entryCount,
      zip64: summary.zip64,
      preambleBytes: summary.preambleBytes,
      manifestFirst: summary.manifestFirst,
      premainClass: summary.premainClass,
      signatureFileCount: summary.signatureFiles.length,
      commentBytes: summary.commentBytes,
    }).toEqual(expected);
    expect(summary.dataVerified).toBe(true);
  });

  it.each(successes)(
    'splices a config into %s that unzip -t accepts and that is a valid base itself',
    async (file) => {
      const base = join(corpus, 'success', file);
      const out = join(dir, `bundle-${file}`);
      const data = Buffer.from('api.url=https\\://example.test\n');
      const written = await writeBundle(base, { path: 'agentpack.properties', data }, out);
      expect(written.replaced).toBe(false);

      const test = await runTool('unzip', ['-t', out]);
      expect(test.stdout).toContain('No errors detected');
      expect(test.code).toBe(0);
      const content = await runTool('unzip', ['-p', out, 'agentpack.properties']);
      expect(content.stdout).toBe(data.toString());

      const { summary } = await inspectArchive(out, { verifyData: true });
      expect(summary.entryCount).toBe(written.base.entryCount + 1);
      expect(summary.preambleBytes).toBe(written.base.preambleBytes);
      const [before, after] = [await readFile(base), await readFile(out)];
      expect(readDirectory(after).comment.equals(readDirectory(before).comment)).toBe(true);
    },
  );
});
