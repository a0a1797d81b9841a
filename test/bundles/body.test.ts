import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_CHUNK_BYTES, BundleBody, directChunkBytes } from '../../src/bundles/body.js';
import type { BundlePart } from '../../src/bundles/ranges.js';
import { createFsBlobStore } from '../../src/storage/blob/fs.js';
import type { BlobReader, BlobStore } from '../../src/storage/blob/types.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Three chunks and a bit: reads cross chunk boundaries and end on a partial chunk. */
const base = randomBytes(3 * BODY_CHUNK_BYTES + 12_345);
const tail = randomBytes(5_000);

let dir: string;
let store: BlobStore;
let app: FastifyInstance;
let url: string;
/** What the next request to the app serves: the body to pipe, and its length. */
let serving: () => Promise<{ body: Readable; length: number }>;
/** What the app logged. */
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'agentpack-body-'));
  store = createFsBlobStore({ root: dir });
  await store.put('bases/java/1.0.0', base);
  app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => logs.push(line) } } });
  app.get('/body', async (_request, reply) => {
    const { body, length } = await serving();
    reply.header('content-length', String(length)).type('application/octet-stream');
    return reply.send(body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/body`;
});

afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

/** A reader over the stored base that records what it is asked to do. */
async function watchedReader(): Promise<{
  reader: BlobReader;
  buffers: Set<ArrayBufferLike>;
  bytesRead: () => number;
  reads: () => number;
  closed: Promise<void>;
}> {
  const inner = await (store.openReader as NonNullable<BlobStore['openReader']>)('bases/java/1.0.0');
  const buffers = new Set<ArrayBufferLike>();
  let bytes = 0;
  let reads = 0;
  let onClose = (): void => undefined;
  const closed = new Promise<void>((resolve) => (onClose = resolve));
  const reader: BlobReader = {
    size: inner.size,
    async read(buffer, position, length) {
      buffers.add(buffer.buffer);
      reads++;
      const count = await inner.read(buffer, position, length);
      bytes += count;
      return count;
    },
    async close() {
      await inner.close();
      onClose();
    },
  };
  return { reader, buffers, bytesRead: () => bytes, reads: () => reads, closed };
}

function expected(parts: BundlePart[]): Buffer {
  return Buffer.concat(
    parts.map((part) => (part.source === 'tail' ? part.bytes : base.subarray(part.start, part.end + 1))),
  );
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A GET through `agent`, with whether it went over a socket an earlier request left open. */
function get(agent: Agent): Promise<{ body: Buffer; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const client = request(url, { agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ body: Buffer.concat(chunks), reusedSocket: client.reusedSocket }));
      response.on('error', reject);
    });
    client.on('error', reject);
    client.end();
  });
}

const cases: { name: string; parts: BundlePart[] }[] = [
  {
    name: 'the whole prefix and the tail',
    parts: [
      { source: 'base', start: 0, end: base.length - 1 },
      { source: 'tail', bytes: tail },
    ],
  },
  {
    name: 'a range starting inside a chunk and ending inside the tail',
    parts: [
      { source: 'base', start: BODY_CHUNK_BYTES - 7, end: base.length - 1 },
      { source: 'tail', bytes: tail.subarray(0, 100) },
    ],
  },
  {
    name: 'a range ending on a chunk boundary',
    parts: [{ source: 'base', start: 1, end: 2 * BODY_CHUNK_BYTES }],
  },
  { name: 'a range of one byte', parts: [{ source: 'base', start: 42, end: 42 }] },
];

describe('BundleBody read as a stream', () => {
  for (const { name, parts } of cases) {
    it(`yields the bytes of ${name}, then closes the base`, async () => {
      const { reader, closed } = await watchedReader();
      const bytes = await readStream(new BundleBody(reader, parts));
      expect(sha256(bytes)).toBe(sha256(expected(parts)));
      await closed;
    });
  }

  it('fails with a message when the base ends before the range does', async () => {
    const { reader } = await watchedReader();
    const body = new BundleBody(reader, [{ source: 'base', start: base.length - 10, end: base.length + 9 }]);
    await expect(readStream(body)).rejects.toThrow(
      `expected the stored base to hold bytes ${base.length - 10}-${base.length + 9}, got only up to ${base.length - 1}`,
    );
  });
});

describe('BundleBody sent by Fastify', () => {
  for (const { name, parts } of cases) {
    it(`sends the bytes of ${name} over HTTP, then closes the base`, async () => {
      const { reader, closed } = await watchedReader();
      const length = expected(parts).length;
      serving = async () => ({ body: new BundleBody(reader, parts), length });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(expected(parts)));
      await closed;
    });
  }

  it('reads into the same two buffers however many chunks it sends', async () => {
    const { reader, buffers, reads, closed } = await watchedReader();
    const parts: BundlePart[] = Array.from({ length: 10 }, () => ({
      source: 'base' as const,
      start: 0,
      end: base.length - 1,
    }));
    serving = async () => ({ body: new BundleBody(reader, parts), length: 10 * base.length });
    const response = await fetch(url);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(expected(parts)));
    await closed;
    expect(reads()).toBeGreaterThanOrEqual(20);
    expect(buffers.size).toBe(2);
  });

  it('sends the right bytes to a client that stops reading for a while (writes queue behind a full socket)', async () => {
    const { reader, closed } = await watchedReader();
    // About 32 MiB, more than the socket buffers of both ends hold, in chunks that all differ.
    const parts: BundlePart[] = Array.from({ length: 40 }, (_, i) => ({
      source: 'base' as const,
      start: i * 1009,
      end: base.length - 1,
    }));
    serving = async () => ({ body: new BundleBody(reader, parts), length: expected(parts).length });
    const received = await new Promise<Buffer>((resolve, reject) => {
      const client = request(url, (response) => {
        const chunks: Buffer[] = [];
        response.pause();
        setTimeout(() => response.resume(), 300);
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks)));
        response.on('error', reject);
      });
      client.on('error', reject);
      client.end();
    });
    expect(sha256(received)).toBe(sha256(expected(parts)));
    await closed;
  });

  it('leaves the connection open for the next request, and logs nothing', async () => {
    logs.length = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const parts: BundlePart[] = [
      { source: 'base', start: 0, end: base.length - 1 },
      { source: 'tail', bytes: tail },
    ];
    try {
      for (const reusedSocket of [false, true]) {
        const { reader, closed } = await watchedReader();
        serving = async () => ({ body: new BundleBody(reader, parts), length: base.length + tail.length });
        const answer = await get(agent);
        expect(sha256(answer.body)).toBe(sha256(expected(parts)));
        expect(answer.reusedSocket).toBe(reusedSocket);
        await closed;
      }
    } finally {
      agent.destroy();
    }
    const troubles = logs.filter((line) => /prematurely|"level":[456]0/.test(line));
    expect(troubles).toEqual([]);
    expect(logs.filter((line) => line.includes('request completed'))).toHaveLength(2);
  });

  it('answers 500 when the base is shorter than the range, before any byte is sent', async () => {
    const { reader, closed } = await watchedReader();
    const parts: BundlePart[] = [{ source: 'base', start: base.length, end: base.length + 99 }];
    serving = async () => ({ body: new BundleBody(reader, parts), length: 100 });
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.text()).toContain('expected the stored base to hold bytes');
    await closed;
  });

  it('stops reading and closes the base when the client goes away mid-download', async () => {
    const { reader, bytesRead, closed } = await watchedReader();
    const parts: BundlePart[] = [];
    // About 64 MiB of ranges of the base: far more than the socket buffers hold.
    for (let i = 0; i < 80; i++) parts.push({ source: 'base', start: 0, end: base.length - 1 });
    const length = parts.length * base.length;
    serving = async () => ({ body: new BundleBody(reader, parts), length });
    await new Promise<void>((resolve, reject) => {
      const client = request(url, (response) => {
        response.once('data', () => {
          client.destroy();
          resolve();
        });
      });
      client.on('error', (error) => (client.destroyed ? undefined : reject(error)));
      client.end();
    });
    await closed;
    expect(bytesRead()).toBeLessThan(length);
  });
});

describe('directChunkBytes', () => {
  it('gives 512 KiB buffers to up to 16 downloads at once, halves them past the shared budget, never below 64 KiB', () => {
    expect(directChunkBytes(1)).toBe(512 * 1024);
    expect(directChunkBytes(16)).toBe(512 * 1024);
    expect(directChunkBytes(17)).toBe(256 * 1024);
    expect(directChunkBytes(50)).toBe(128 * 1024);
    expect(directChunkBytes(1000)).toBe(64 * 1024);
  });
});

describe('the fs blob store reader', () => {
  it('reads positionally into the caller’s buffer, and 0 past the end', async () => {
    const reader = await (store.openReader as NonNullable<BlobStore['openReader']>)('bases/java/1.0.0');
    const buffer = Buffer.alloc(100);
    expect(reader.size).toBe(base.length);
    expect(await reader.read(buffer, 1000, 100)).toBe(100);
    expect(buffer.equals(base.subarray(1000, 1100))).toBe(true);
    expect(await reader.read(buffer, base.length, 100)).toBe(0);
    await reader.close();
  });

  it('lets a read in flight finish before closing, and refuses reads after close', async () => {
    const reader = await (store.openReader as NonNullable<BlobStore['openReader']>)('bases/java/1.0.0');
    const buffer = Buffer.alloc(BODY_CHUNK_BYTES);
    const reading = reader.read(buffer, 0, buffer.length);
    const closing = reader.close();
    expect(await reading).toBe(buffer.length);
    expect(buffer.equals(base.subarray(0, buffer.length))).toBe(true);
    await closing;
    await expect(reader.read(buffer, 0, 10)).rejects.toThrow('after close');
  });

  it('answers NotFound for a missing key', async () => {
    const open = store.openReader as NonNullable<BlobStore['openReader']>;
    await expect(open('bases/java/9.9.9')).rejects.toThrow('no blob "bases/java/9.9.9"');
  });
});
