/**
 * Limits and bombs. The bombs are generated here (not committed) with a streaming deflater, so
 * making them never holds their inflated size in memory; the memory checks run first in this file
 * so the process's peak RSS is still close to where it started.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, crc32, createDeflateRaw } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectArchive } from '../../src/archive/inspect.js';
import { type ArchiveLimits, defaultLimits, limitsFromEnv } from '../../src/archive/limits.js';
import { ArchiveError, UsageError } from '../../src/common/errors.js';
import { buildZip, type EntrySpec } from '../helpers/zip-writer.mjs';
import { fixtureJar, MiB, peakRss, rssGrowth } from './support.js';

const corpus = fileURLToPath(new URL('../corpus/', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-limits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deflates `head` followed by `zeros` zero bytes, one MiB at a time; returns the stream and CRC. */
async function deflateStreamed(
  head: Buffer,
  zeros: number,
): Promise<{ raw: Buffer; crc: number; size: number }> {
  const deflater = createDeflateRaw({ level: 9, flush: constants.Z_NO_FLUSH });
  const out: Buffer[] = [];
  deflater.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve, reject) => deflater.on('end', resolve).on('error', reject));
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve) => {
      if (deflater.write(chunk)) resolve();
      else deflater.once('drain', resolve);
    });
  let crc = crc32(head);
  await write(head);
  const zero = Buffer.alloc(MiB);
  for (let left = zeros; left > 0; left -= MiB) {
    const chunk = left >= MiB ? zero : zero.subarray(0, left);
    crc = crc32(chunk, crc);
    await write(chunk);
  }
  deflater.end();
  await done;
  return { raw: Buffer.concat(out), crc, size: head.length + zeros };
}

/** One deflated entry whose headers declare `declared` bytes (the truth when it equals size). */
function bomb(name: string, stream: { raw: Buffer; crc: number }, declared: number): EntrySpec {
  const fields = { uncompressedSize: declared, crc: stream.crc };
  return { name, raw: stream.raw, method: 8, local: fields, central: fields };
}

async function write(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function rejection(path: string, limits?: ArchiveLimits): Promise<Error | null> {
  return inspectArchive(path, { verifyData: true, ...(limits === undefined ? {} : { limits }) }).then(
    () => null,
    (error: Error) => error,
  );
}

describe('a lying-size bomb is stopped while inflating, in bounded memory', () => {
  it('rejects an entry declaring 1 MiB that inflates to 100 MiB (inflated in memory, capped)', async () => {
    const stream = await deflateStreamed(Buffer.from('header'), 100 * MiB);
    const path = await write('lying-small.zip', buildZip({ entries: [bomb('bomb.bin', stream, MiB)] }));
    const peakBefore = peakRss();
    const { result: error, growth } = await rssGrowth(() => rejection(path));
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error?.message).toBe(`entry "bomb.bin": inflates past its declared size of ${MiB} bytes`);
    // The inflate is synchronous, so the sampler cannot see inside it; the peak RSS can.
    expect(peakRss() - peakBefore).toBeLessThan(32 * MiB);
    expect(growth).toBeLessThan(32 * MiB);
  });

  it('rejects an entry declaring 6 MiB that inflates to 105 MiB (streamed, capped)', async () => {
    const stream = await deflateStreamed(randomBytes(5 * MiB), 100 * MiB);
    expect(stream.raw.length).toBeGreaterThan(4 * MiB);
    const path = await write('lying-large.zip', buildZip({ entries: [bomb('bomb.bin', stream, 6 * MiB)] }));
    const peakBefore = peakRss();
    const { result: error, growth } = await rssGrowth(() => rejection(path));
    expect(error?.message).toContain(`entry "bomb.bin": inflates past its declared size of ${6 * MiB} bytes`);
    expect(peakRss() - peakBefore).toBeLessThan(48 * MiB);
    expect(growth).toBeLessThan(48 * MiB);
  });
});

describe('limits', () => {
  it('rejects a bomb of 200 MiB of zeros, declared honestly, by its compression ratio', async () => {
    const stream = await deflateStreamed(Buffer.alloc(0), 200 * MiB);
    const path = await write('ratio-bomb.zip', buildZip({ entries: [bomb('zeros.bin', stream, 200 * MiB)] }));
    const error = await rejection(path);
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error?.message).toMatch(
      /^entry "zeros\.bin" has a compression ratio of \d+:1, above the limit of 200:1$/,
    );
  });

  it('accepts the same kind of entry when the ratio limit is raised, and checks its data', async () => {
    const path = join(corpus, 'failure', 'has a compression ratio of.zip');
    const { summary } = await inspectArchive(path, {
      limits: { ...defaultLimits, maxCompressionRatio: 5000 },
    });
    expect(summary.dataVerified).toBe(true);
    expect(summary.uncompressedBytes).toBeGreaterThan(3 * MiB);
  });

  it('does not ratio-check entries under 1 MiB, however well they compress', async () => {
    const path = await write(
      'small-zeros.zip',
      buildZip({ entries: [{ name: 'z.bin', data: Buffer.alloc(MiB - 1) }] }),
    );
    expect(await rejection(path)).toBeNull();
  });

  it('rejects an archive with more entries than the limit', async () => {
    const entries = Array.from({ length: 1001 }, (_, i) => ({ name: `f${i}.txt`, data: `${i}`, method: 0 }));
    const path = await write('many.zip', buildZip({ entries }));
    const error = await rejection(path, { ...defaultLimits, maxEntries: 1000 });
    expect(error?.message).toBe('archive has 1001 entries, more than the limit of 1000');
    expect(await rejection(path, { ...defaultLimits, maxEntries: 1001 })).toBeNull();
  });

  it('rejects entries whose declared sizes add up past the total uncompressed limit', async () => {
    const text = Buffer.from(
      Array.from({ length: 200_000 }, (_, i) => `${i}\n`)
        .join('')
        .slice(0, MiB),
    );
    const entries = [0, 1, 2].map((i) => ({ name: `part${i}.txt`, data: text }));
    const path = await write('total.zip', buildZip({ entries }));
    const limit = 2.5 * MiB;
    const error = await rejection(path, { ...defaultLimits, maxTotalUncompressedBytes: limit });
    expect(error?.message).toBe(`entries declare more than ${limit} uncompressed bytes in total (the limit)`);
    expect(await rejection(path, { ...defaultLimits, maxTotalUncompressedBytes: 3 * MiB })).toBeNull();
  });

  it('rejects an archive file larger than the size limit', async () => {
    const error = await rejection(fixtureJar, { ...defaultLimits, maxArchiveBytes: 1000 });
    expect(error?.message).toMatch(/^archive is \d+ bytes, more than the limit of 1000$/);
  });

  it('accepts a self-extractor stub under the preamble limit and rejects one over it', async () => {
    const entries = [{ name: 'a.txt', data: 'hello', method: 0 }];
    const small = await write(
      'stub-small.zip',
      buildZip({ preamble: Buffer.alloc(512 * 1024, 0x23), entries }),
    );
    const { summary } = await inspectArchive(small);
    expect(summary.preambleBytes).toBe(512 * 1024);
    const large = await write('stub-large.zip', buildZip({ preamble: Buffer.alloc(2 * MiB, 0x23), entries }));
    expect((await rejection(large))?.message).toBe(
      `${2 * MiB} bytes precede the first entry, more than the limit of ${defaultLimits.maxPreambleBytes}`,
    );
  });

  it('reads overrides from the environment and refuses malformed ones', () => {
    const limits = limitsFromEnv({ AGENTPACK_MAX_ENTRIES: '10', AGENTPACK_MAX_COMPRESSION_RATIO: '50' });
    expect(limits).toEqual({ ...defaultLimits, maxEntries: 10, maxCompressionRatio: 50 });
    expect(() => limitsFromEnv({ AGENTPACK_MAX_ENTRIES: '10k' })).toThrow(UsageError);
    expect(() => limitsFromEnv({ AGENTPACK_MAX_ENTRIES: '-1' })).toThrow(
      /AGENTPACK_MAX_ENTRIES must be a non-negative integer/,
    );
  });
});
