import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentpackError, NotFoundError } from '../../../src/common/errors.js';
import type { BlobStore } from '../../../src/storage/blob/types.js';

export interface BlobStoreHarness {
  store: BlobStore;
  /**
   * Every name the backend holds for this store, internals included (temp files, sidecars, raw
   * object names), read around the store, so "nothing left behind" is checked at the source.
   */
  rawNames(): Promise<string[]>;
}

const MiB = 1024 * 1024;

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `bytes` in `chunkSize` pieces that fails with `error` once `failAfter` bytes are out. */
export function sourceOf(
  bytes: Buffer,
  opts: { chunkSize?: number; failAfter?: number; error?: Error } = {},
) {
  const chunkSize = opts.chunkSize ?? 64 * 1024;
  let offset = 0;
  return new Readable({
    read() {
      if (opts.failAfter !== undefined && offset >= opts.failAfter) {
        this.destroy(opts.error ?? new Error('source failed'));
        return;
      }
      if (offset >= bytes.length) {
        this.push(null);
        return;
      }
      this.push(bytes.subarray(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function keys(store: BlobStore, prefix: string): Promise<string[]> {
  return (await collect(store.list(prefix))).map((e) => e.key).sort();
}

function forceGc(): () => void {
  // The same trick jest's leak detector uses: expose gc() without restarting node with a flag.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * The behaviour every BlobStore must have. `open` returns a fresh, empty store each time; the
 * suite closes the stores it opened.
 */
export function blobStoreContract(open: () => Promise<BlobStoreHarness>): void {
  const opened: BlobStore[] = [];
  const harness = async (): Promise<BlobStoreHarness> => {
    const h = await open();
    opened.push(h.store);
    return h;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  describe('put and get', () => {
    it('round-trips a buffer and reports its size and sha256', async () => {
      const { store } = await harness();
      const bytes = randomBytes(100_000);
      const result = await store.put('agents/java/1.0.0/agent.jar', bytes, {
        contentType: 'application/java-archive',
      });
      expect(result).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      expect((await readAll(await store.get('agents/java/1.0.0/agent.jar'))).equals(bytes)).toBe(true);
      const info = await store.head('agents/java/1.0.0/agent.jar');
      expect(info).toMatchObject({
        size: bytes.length,
        sha256: sha256(bytes),
        contentType: 'application/java-archive',
      });
      expect(info?.lastModified).toBeInstanceOf(Date);
    });

    it('hashes and counts a multi-chunk stream while storing it', async () => {
      const { store } = await harness();
      const bytes = randomBytes(3 * MiB + 17);
      const result = await store.put('streamed', sourceOf(bytes, { chunkSize: 10_000 }));
      expect(result).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      expect(sha256(await readAll(await store.get('streamed')))).toBe(sha256(bytes));
    });

    it('stores an empty object', async () => {
      const { store } = await harness();
      expect(await store.put('empty', Buffer.alloc(0))).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
      expect((await readAll(await store.get('empty'))).length).toBe(0);
      expect((await store.head('empty'))?.size).toBe(0);
    });

    it('accepts a matching expected sha256 and refuses a wrong one, storing nothing', async () => {
      const { store, rawNames } = await harness();
      const bytes = randomBytes(1000);
      await expect(store.put('checked', bytes, { sha256: sha256(bytes) })).resolves.toMatchObject({
        size: 1000,
      });
      const wrong = sha256(Buffer.from('something else'));
      const error = await store.put('refused', bytes, { sha256: wrong }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AgentpackError);
      expect(error).toMatchObject({ code: 'BLOB_DIGEST_MISMATCH', status: 422 });
      expect((error as Error).message).toContain(wrong);
      expect(await store.head('refused')).toBeNull();
      expect((await rawNames()).filter((n) => n.includes('refused'))).toEqual([]);
    });

    it('refuses a wrong expected sha256 on a large streamed put too', async () => {
      const { store } = await harness();
      const bytes = randomBytes(12 * MiB);
      const wrong = sha256(Buffer.from('x'));
      await expect(store.put('big-refused', sourceOf(bytes), { sha256: wrong })).rejects.toMatchObject({
        code: 'BLOB_DIGEST_MISMATCH',
      });
      expect(await store.head('big-refused')).toBeNull();
      expect(await keys(store, '')).toEqual([]);
    });
  });

  describe('ranged get', () => {
    const bytes = randomBytes(10_000);
    const cases: [string, { start: number; end: number }, Buffer][] = [
      ['the first byte', { start: 0, end: 0 }, bytes.subarray(0, 1)],
      ['a middle slice', { start: 1234, end: 5677 }, bytes.subarray(1234, 5678)],
      ['the last byte', { start: 9999, end: 9999 }, bytes.subarray(9999)],
      ['the whole object', { start: 0, end: 9999 }, bytes],
      ['a range running past the end, clamped', { start: 9990, end: 20_000 }, bytes.subarray(9990)],
    ];
    for (const [name, range, expected] of cases) {
      it(`returns ${name}`, async () => {
        const { store } = await harness();
        await store.put('ranged', bytes);
        expect((await readAll(await store.get('ranged', range))).equals(expected)).toBe(true);
      });
    }

    it('answers 416 for a range starting past the last byte', async () => {
      const { store } = await harness();
      await store.put('ranged', bytes);
      await expect(store.get('ranged', { start: 10_000, end: 10_010 })).rejects.toMatchObject({
        code: 'RANGE_NOT_SATISFIABLE',
        status: 416,
      });
    });

    it('rejects a reversed or negative range with 400', async () => {
      const { store } = await harness();
      await store.put('ranged', bytes);
      await expect(store.get('ranged', { start: 5, end: 4 })).rejects.toMatchObject({ status: 400 });
      await expect(store.get('ranged', { start: -1, end: 4 })).rejects.toMatchObject({ status: 400 });
    });
  });

  describe('missing keys', () => {
    it('get rejects with NotFoundError, head answers null', async () => {
      const { store } = await harness();
      const error = await store.get('nope/missing.jar').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as Error).message).toContain('nope/missing.jar');
      await expect(store.get('nope/missing.jar', { start: 0, end: 1 })).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.head('nope/missing.jar')).toBeNull();
    });

    it('a key that is only a prefix of other keys is not an object', async () => {
      const { store } = await harness();
      await store.put('dir/file', Buffer.from('x'));
      await expect(store.get('dir')).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.head('dir')).toBeNull();
    });
  });

  describe('key validation', () => {
    for (const bad of [
      '../x',
      '/x',
      'a//b',
      'a\\b',
      'a/../b',
      './a',
      'a/',
      '',
      'a b',
      `${'k'.repeat(513)}`,
    ]) {
      it(`rejects ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 12)}...` : bad)} with 400 before touching storage`, async () => {
        const { store, rawNames } = await harness();
        for (const attempt of [
          () => store.put(bad, Buffer.from('x')),
          () => store.get(bad),
          () => store.head(bad),
          () => store.delete(bad),
        ]) {
          await expect(attempt()).rejects.toMatchObject({ code: 'BLOB_KEY_INVALID', status: 400 });
        }
        await expect(collect(store.list('../'))).rejects.toMatchObject({ status: 400 });
        expect(await rawNames()).toEqual([]);
      });
    }
  });

  describe('failed writes', () => {
    for (const [name, size] of [
      ['small', 200_000],
      ['large (multipart on S3)', 13 * MiB],
    ] as const) {
      it(`a ${name} put whose source errors midway rethrows that error and leaves nothing`, async () => {
        const { store, rawNames } = await harness();
        const bytes = randomBytes(size);
        const boom = new Error('client went away');
        const error = await store
          .put('uploads/broken.jar', sourceOf(bytes, { failAfter: Math.floor(size * 0.8), error: boom }))
          .catch((e: unknown) => e);
        expect(error).toBe(boom);
        expect(await store.head('uploads/broken.jar')).toBeNull();
        expect(await keys(store, '')).toEqual([]);
        expect(await rawNames()).toEqual([]);
      });
    }

    it('a source destroyed without an error (an aborted request) leaves nothing', async () => {
      const { store, rawNames } = await harness();
      const source = new PassThrough();
      const putting = store.put('aborted', source);
      source.write(randomBytes(50_000));
      setImmediate(() => source.destroy());
      await expect(putting).rejects.toThrow();
      expect(await store.head('aborted')).toBeNull();
      expect(await rawNames()).toEqual([]);
    });

    it('a failed overwrite keeps the previous object intact', async () => {
      const { store } = await harness();
      const old = randomBytes(30_000);
      await store.put('kept', old);
      await expect(store.put('kept', sourceOf(randomBytes(90_000), { failAfter: 40_000 }))).rejects.toThrow();
      expect((await readAll(await store.get('kept'))).equals(old)).toBe(true);
      expect((await store.head('kept'))?.sha256).toBe(sha256(old));
    });
  });

  describe('overwrite', () => {
    for (const [name, size] of [
      ['small', 100_000],
      ['large', 11 * MiB],
    ] as const) {
      it(`readers see the complete old object while a ${name} replacement is still streaming, then the new one`, async () => {
        const { store } = await harness();
        const old = randomBytes(64_000);
        const next = randomBytes(size);
        await store.put('swap', old);
        const source = new PassThrough();
        const putting = store.put('swap', source);
        const half = Math.floor(size / 2);
        await new Promise<void>((resolve) => source.write(next.subarray(0, half), () => resolve()));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect((await readAll(await store.get('swap'))).equals(old)).toBe(true);
        expect((await store.head('swap'))?.size).toBe(old.length);
        source.end(next.subarray(half));
        await expect(putting).resolves.toEqual({ size, sha256: sha256(next) });
        expect(sha256(await readAll(await store.get('swap')))).toBe(sha256(next));
        expect(await store.head('swap')).toMatchObject({ size, sha256: sha256(next) });
      });
    }
  });

  describe('list', () => {
    it('yields every key under a string prefix with its size', async () => {
      const { store } = await harness();
      for (const [key, size] of [
        ['a/1', 1],
        ['a/2', 2],
        ['a/b/3', 3],
        ['ab', 4],
        ['b/1', 5],
      ] as const) {
        await store.put(key, randomBytes(size));
      }
      expect((await collect(store.list('a/'))).sort((x, y) => (x.key < y.key ? -1 : 1))).toEqual([
        { key: 'a/1', size: 1 },
        { key: 'a/2', size: 2 },
        { key: 'a/b/3', size: 3 },
      ]);
      expect(await keys(store, 'a')).toEqual(['a/1', 'a/2', 'a/b/3', 'ab']);
      expect(await keys(store, 'a/b')).toEqual(['a/b/3']);
      expect(await keys(store, '')).toEqual(['a/1', 'a/2', 'a/b/3', 'ab', 'b/1']);
      expect(await keys(store, 'zzz')).toEqual([]);
      expect(await keys(store, 'a/1')).toEqual(['a/1']);
    });

    it('returns each key exactly once across many pages', async () => {
      const { store } = await harness();
      const expected = Array.from({ length: 45 }, (_, i) => `bundles/org${String(i).padStart(3, '0')}/b.jar`);
      await Promise.all(expected.map((key) => store.put(key, Buffer.from(key))));
      await store.put('other/x', Buffer.from('x'));
      const listed = await collect(store.list('bundles/'));
      expect(listed.map((e) => e.key).sort()).toEqual(expected);
      expect(new Set(listed.map((e) => e.key)).size).toBe(expected.length);
    });
  });

  describe('delete', () => {
    it('removes an object and is idempotent', async () => {
      const { store, rawNames } = await harness();
      await store.put('gone/soon', Buffer.from('bye'));
      await store.put('gone/stays', Buffer.from('hi'));
      await store.delete('gone/soon');
      await store.delete('gone/soon');
      await store.delete('never/existed');
      expect(await store.head('gone/soon')).toBeNull();
      await expect(store.get('gone/soon')).rejects.toBeInstanceOf(NotFoundError);
      expect(await keys(store, '')).toEqual(['gone/stays']);
      expect((await rawNames()).some((n) => n.includes('soon'))).toBe(false);
    });
  });

  describe('memory', () => {
    it('streams a 20 MiB put without holding it in memory', async () => {
      const { store } = await harness();
      const gc = forceGc();
      const settle = async (): Promise<number> => {
        // Backing stores of collected buffers are freed by a background sweeper: collect, wait, collect.
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
        gc();
        return process.memoryUsage().arrayBuffers;
      };
      const total = 20 * MiB;
      const chunk = 256 * 1024;
      let peak = 0;
      const baseline = await settle();
      async function* produce(): AsyncGenerator<Buffer> {
        for (let produced = 0; produced < total; produced += chunk) {
          if (produced % (2 * MiB) === 0) peak = Math.max(peak, (await settle()) - baseline);
          yield randomBytes(chunk);
        }
      }
      const source = Readable.from(produce(), { objectMode: false, highWaterMark: chunk });
      const result = await store.put('big/streamed.bin', source);
      expect(result.size).toBe(total);
      // Holding the upload would take at least 20 MiB; a part buffer plus a few chunks is the budget.
      expect(peak).toBeLessThan(12 * MiB);
    });
  });
}
