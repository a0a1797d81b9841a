import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZipArchive } from 'archiver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PreparedBase, prepareBase, spliceBundle } from '../../src/archive/prepared.js';
import { buildTail } from '../../src/archive/splice.js';
import { TailDigests } from '../../src/bundles/tail-digests.js';

/** A base whose central directory is large enough (> 64 KiB) to be sent to the worker once and shared. */
async function writeBase(path: string): Promise<void> {
  const archive = new ZipArchive({ zlib: { level: 1 } });
  const done = new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('close', resolve);
    out.on('error', reject);
    archive.on('error', reject);
    archive.pipe(out);
  });
  archive.append('Manifest-Version: 1.0\n', { name: 'META-INF/MANIFEST.MF' });
  for (let i = 0; i < 2000; i++)
    archive.append(`class ${i}\n`.repeat(20), { name: `com/example/pkg/Class${i}.class` });
  await archive.finalize();
  await done;
}

describe('bundle digests off the main thread', () => {
  let dir: string;
  let path: string;
  let base: PreparedBase;
  const entry = (n: number) => ({
    path: 'agentpack.properties',
    data: Buffer.from(`api.user_name=org-${n}\n`),
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentpack-digests-'));
    path = join(dir, 'base.jar');
    await writeBase(path);
    base = await prepareBase(path);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('give the digest of the whole bundle, in the worker once builds pile up', async () => {
    const digests = new TailDigests(true);
    try {
      const prefix = async () => createReadStream(path);
      const check = async (n: number, busy: number) => {
        const tail = buildTail(base.structure, entry(n));
        const hex = await digests.sha256(base, tail.parts, busy, prefix, tail.prefixLength);
        const expected = createHash('sha256');
        expected.update((await import('node:fs')).readFileSync(path).subarray(0, tail.prefixLength));
        expected.update(tail.bytes);
        expect(hex).toBe(expected.digest('hex'));
        expect(hex).toBe(spliceBundle(base, entry(n)).sha256);
      };
      await check(0, 1);
      expect(digests.offloaded).toBe(0);
      await check(1, 4);
      // The worker learns the base's prefix in the background; then it takes the tails.
      for (let waited = 0; digests.offloaded === 0 && waited < 200; waited++) {
        await check(2 + waited, 4);
        await sleep(10);
      }
      expect(digests.offloaded).toBeGreaterThan(0);
      await Promise.all(Array.from({ length: 20 }, (_, i) => check(1000 + i, 8)));
      expect(digests.offloaded).toBeGreaterThan(20);
    } finally {
      await digests.close();
    }
  });

  it('hash in place when the worker is off, closed or the base cannot be read', async () => {
    const off = new TailDigests(false);
    const tail = buildTail(base.structure, entry(7));
    const expected = spliceBundle(base, entry(7)).sha256;
    expect(await off.sha256(base, tail.parts, 8, async () => createReadStream(path), tail.prefixLength)).toBe(
      expected,
    );
    expect(off.offloaded).toBe(0);

    const unreadable = new TailDigests(true);
    try {
      for (let i = 0; i < 5; i++) {
        const hex = await unreadable.sha256(
          base,
          tail.parts,
          8,
          async () => createReadStream(join(dir, 'missing')),
          tail.prefixLength,
        );
        expect(hex).toBe(expected);
        await sleep(10);
      }
      expect(unreadable.offloaded).toBe(0);
    } finally {
      await unreadable.close();
    }
    expect(
      await unreadable.sha256(base, tail.parts, 8, async () => createReadStream(path), tail.prefixLength),
    ).toBe(expected);
  });
});
