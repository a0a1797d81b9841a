import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { type AgentpackError, InternalError } from '../common/errors.js';
import type { BlobReader } from '../storage/blob/types.js';
import type { BundlePart } from './ranges.js';

/** Bytes per read when the body is read as a stream (a fresh buffer each, which the consumer keeps). */
export const BODY_CHUNK_BYTES = 256 * 1024;

/**
 * Bytes per read when writing to a response, at most: two 512 KiB buffers stay in a core's L2
 * cache between the read that fills one and the socket write that empties it. bench: "info: server
 * CPU per GiB sent" (service section), on its 70 MB bundle: 256 KiB costs about 10% more CPU (a
 * thread-pool round trip per read), 1 MiB and more cost more too (cache misses).
 */
const MAX_DIRECT_CHUNK = 512 * 1024;
const MIN_DIRECT_CHUNK = 64 * 1024;
/** Buffers per download written to a response: one is filled while the other is being sent. */
const RING = 2;
/**
 * Buffer memory the downloads of this process share before each new one takes smaller buffers:
 * 16 at once get 512 KiB buffers; 50 started together hold under 30 MiB rather than 50.
 */
const DIRECT_BUDGET_BYTES = 16 * 1024 * 1024;
/** Bodies writing to a response right now, in this process. */
let directBodies = 0;

/** The largest power-of-two chunk that keeps `active` downloads within the budget (never below the minimum). */
export function directChunkBytes(active: number): number {
  let chunk = MAX_DIRECT_CHUNK;
  while (chunk > MIN_DIRECT_CHUNK && active * RING * chunk > DIRECT_BUDGET_BYTES) chunk /= 2;
  return chunk;
}

/**
 * Buffers of finished downloads, kept for the next ones (up to the budget) rather than left to
 * the GC: V8 frees a buffer's memory only when it collects the object, so bursts of downloads
 * would otherwise pile up garbage rings before a collection.
 */
class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private bytes = 0;

  constructor(private readonly capacity: number) {}

  take(size: number): Buffer {
    const buffer = this.free.get(size)?.pop();
    if (buffer === undefined) return Buffer.allocUnsafeSlow(size);
    this.bytes -= size;
    return buffer;
  }

  give(buffer: Buffer): void {
    if (this.bytes + buffer.length > this.capacity) return;
    const list = this.free.get(buffer.length) ?? [];
    list.push(buffer);
    this.free.set(buffer.length, list);
    this.bytes += buffer.length;
  }
}

const pool = new BufferPool(DIRECT_BUDGET_BYTES);

type BasePart = BundlePart & { readonly source: 'base' };

/**
 * The bytes of a bundle, or of a range of it: ranges of the stored base, read positionally, and
 * bytes of the tail. Read as a stream, it allocates a buffer per chunk, as any stream must (its
 * consumer keeps what it is given). Piped into an HTTP response, which is how Fastify sends a
 * stream, it writes through two buffers it reuses instead, each only once the response's write
 * callback has said its bytes are with the kernel: no allocation, page fault or garbage per
 * chunk, and a fixed amount of memory per download.
 *
 * bench: "agentpack, 1 client", "agentpack, 4 clients", "info: server CPU per GiB sent" and "server
 * peak RSS, 50 concurrent downloads" (service section): the stream mode alone gave a third of the
 * throughput at 1 client and under half at 4, took 4x the server CPU per GiB and about 20 MiB more
 * at 50 downloads (same run, interleaved).
 */
export class BundleBody extends Readable {
  private index = 0;
  private position: number;
  private mode: 'unstarted' | 'stream' | 'direct' = 'unstarted';
  /** Whether this body counts in `directBodies`; cleared once it no longer holds its buffers. */
  private counted = false;

  constructor(
    private readonly reader: BlobReader,
    private readonly parts: readonly BundlePart[],
  ) {
    super({ highWaterMark: BODY_CHUNK_BYTES });
    this.position = startOf(parts[0]);
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    // Another writable may keep a chunk after calling back (a Transform queues it): only a
    // response is known to be done with the bytes by then.
    if (
      this.mode !== 'unstarted' ||
      this.readableFlowing !== null ||
      !(destination instanceof ServerResponse)
    )
      return super.pipe(destination, options);
    this.mode = 'direct';
    this.counted = true;
    directBodies++;
    const end = options?.end !== false;
    this.writeTo(destination, directChunkBytes(directBodies)).then(
      () => {
        if (this.destroyed) return;
        // As pipe does: 'end' first, then the response ends. Fastify takes a response that
        // finishes while its body is still open for an aborted one, and destroys the socket.
        if (end) this.once('end', () => destination.end());
        this.push(null);
        this.resume(); // nothing is buffered: emits 'end'
      },
      (error: unknown) => this.destroy(asError(error)),
    );
    return destination;
  }

  override _read(): void {
    if (this.mode === 'direct') return;
    this.mode = 'stream';
    const part = this.parts[this.index];
    if (part === undefined) {
      this.push(null);
      return;
    }
    if (part.source === 'tail') {
      this.next();
      this.push(part.bytes);
      return;
    }
    this.readChunk(part).catch((error: unknown) => this.destroy(asError(error)));
  }

  private async readChunk(part: BasePart): Promise<void> {
    const buffer = Buffer.allocUnsafe(Math.min(BODY_CHUNK_BYTES, part.end - this.position + 1));
    const count = await this.reader.read(buffer, this.position, buffer.length);
    if (count === 0) throw truncated(part, this.position);
    this.position += count;
    if (this.position > part.end) this.next();
    this.push(count === buffer.length ? buffer : buffer.subarray(0, count));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.counted) {
      this.counted = false;
      directBodies--;
    }
    this.reader.close().then(
      () => callback(error),
      (closeError: Error) => callback(error ?? closeError),
    );
  }

  private async writeTo(response: ServerResponse, chunk: number): Promise<void> {
    // A response closed before it finished (the client went away): stop reading. Its pending
    // write callbacks may never fire; the loop then stays parked and is collected with them.
    const onClose = (): void => {
      if (!response.writableFinished) this.destroy();
    };
    response.once('close', onClose);
    const baseBytes = this.parts.reduce((sum, p) => sum + (p.source === 'base' ? p.end - p.start + 1 : 0), 0);
    // A short range gets buffers of its own size; full-size ones come from and go back to the pool.
    const size = Math.min(chunk, baseBytes);
    const ring = Array.from({ length: RING }, () =>
      size === chunk ? pool.take(size) : Buffer.allocUnsafeSlow(size),
    );
    const sent: Promise<void>[] = ring.map(() => Promise.resolve());
    let turn = 0;
    for (const part of this.parts) {
      if (part.source === 'tail') {
        if (part.bytes.length > 0) response.write(part.bytes);
        continue;
      }
      for (let position = part.start; position <= part.end; ) {
        const slot = turn++ % RING;
        const buffer = ring[slot] as Buffer;
        await sent[slot];
        if (this.destroyed) return;
        const count = await this.reader.read(buffer, position, Math.min(size, part.end - position + 1));
        if (this.destroyed) return;
        if (count === 0) throw truncated(part, position);
        position += count;
        sent[slot] = new Promise((resolve) => response.write(buffer.subarray(0, count), () => resolve()));
      }
    }
    response.removeListener('close', onClose);
    // Only once every write has called back is no byte of the ring still waiting to be sent.
    if (size === chunk)
      Promise.all(sent).then(() => {
        for (const buffer of ring) pool.give(buffer);
      });
  }

  private next(): void {
    this.index++;
    this.position = startOf(this.parts[this.index]);
  }
}

function startOf(part: BundlePart | undefined): number {
  return part?.source === 'base' ? part.start : 0;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function truncated(part: BasePart, position: number): AgentpackError {
  return new InternalError(
    'BASE_TRUNCATED',
    `expected the stored base to hold bytes ${part.start}-${part.end}, got only up to ${position - 1}`,
  );
}
