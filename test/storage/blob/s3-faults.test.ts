import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/common/errors.js';
import { createS3BlobStore } from '../../../src/storage/blob/s3.js';
import type { BlobStore } from '../../../src/storage/blob/types.js';
import { startS3Server } from '../../helpers/s3server.js';
import { readAll } from './contract.js';

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of closing.splice(0).reverse()) await step();
});

/**
 * A server that accepts connections and then says nothing, as a frozen S3 (SIGSTOP) does: the
 * kernel completes the handshake, no byte ever comes back.
 */
async function silentServer(): Promise<{ endpoint: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closing.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, sockets };
}

function store(endpoint: string, timeoutMs: number): BlobStore {
  const opened = createS3BlobStore({
    bucket: 'agentpack-test',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    timeoutMs,
  });
  closing.push(() => opened.close());
  return opened;
}

describe('S3 blob store timeouts', () => {
  for (const [name, call] of [
    ['get', (s: BlobStore) => s.get('bases/a.jar')],
    ['head', (s: BlobStore) => s.head('bases/a.jar')],
    ['put', (s: BlobStore) => s.put('bases/a.jar', Buffer.from('bytes'))],
    ['delete', (s: BlobStore) => s.delete('bases/a.jar')],
  ] as const) {
    it(`gives up on ${name} against a server that never answers, with STORAGE_UNAVAILABLE (503)`, async () => {
      const silent = await silentServer();
      const error = await call(store(silent.endpoint, 300)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503, dependency: 'storage' });
      expect(silent.sockets.length).toBeGreaterThan(0);
    });
  }

  it('ends a body that stops flowing with STORAGE_UNAVAILABLE, not an SDK error', async () => {
    const s3 = await startS3Server();
    closing.push(() => s3.close());
    const proxy = await freezableProxy(new URL(s3.endpoint));
    const direct = store(s3.endpoint, 300);
    await direct.put('big', Buffer.alloc(8 * 1024 * 1024, 1));
    const body = await store(proxy.endpoint, 300).get('big');
    // The status line is in; now nothing more arrives, as from a server that was SIGSTOPped.
    proxy.freeze();
    const error = await readAll(body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});

/** A TCP proxy to `upstream` that can stop passing bytes in both directions at once. */
async function freezableProxy(upstream: URL): Promise<{ endpoint: string; freeze(): void }> {
  const pairs: [Socket, Socket][] = [];
  const server = createServer((client) => {
    const remote = connect(Number(upstream.port), upstream.hostname);
    client.on('error', () => undefined);
    remote.on('error', () => undefined);
    client.pipe(remote);
    remote.pipe(client);
    pairs.push([client, remote]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closing.push(async () => {
    for (const pair of pairs) for (const socket of pair) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    freeze() {
      for (const [client, remote] of pairs) {
        client.unpipe(remote);
        remote.unpipe(client);
        client.pause();
        remote.pause();
      }
    },
  };
}
