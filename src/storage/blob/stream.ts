import type { Readable } from 'node:stream';
import {
  type AgentpackError,
  BadRequestError,
  InternalError,
  UnprocessableError,
} from '../../common/errors.js';

/** Chunks of `source` as Buffers; strings (a Readable with an encoding set) are re-encoded. */
export async function* bufferChunks(source: Readable | Buffer): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    yield source;
    return;
  }
  for await (const chunk of source as AsyncIterable<unknown>) {
    if (Buffer.isBuffer(chunk)) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk);
    else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else
      throw new InternalError('BLOB_SOURCE_INVALID', `expected a byte stream, got a ${typeof chunk} chunk`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function validateSha256(value: string | undefined): string | undefined {
  if (value !== undefined && !SHA256_HEX.test(value)) {
    throw new BadRequestError('BLOB_DIGEST_INVALID', 'expected sha256 as 64 lowercase hex digits');
  }
  return value;
}

export function digestMismatch(key: string, expected: string, actual: string): AgentpackError {
  return new UnprocessableError(
    'BLOB_DIGEST_MISMATCH',
    `expected sha256 ${expected} for blob "${key}", computed ${actual}; nothing was stored`,
  );
}

/** Bytes waiting to be sent in pieces of a chosen size (multipart parts); `take` slices exactly. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    const out: Buffer[] = [];
    let taken = 0;
    while (taken < n) {
      const chunk = this.chunks.shift();
      if (chunk === undefined) break;
      const want = n - taken;
      if (chunk.length > want) {
        out.push(chunk.subarray(0, want));
        this.chunks.unshift(chunk.subarray(want));
        taken += want;
      } else {
        out.push(chunk);
        taken += chunk.length;
      }
    }
    this.length -= taken;
    return out.length === 1 ? out[0]! : Buffer.concat(out, taken);
  }
}

/** The first `n` bytes of `source`, which is destroyed as soon as they are out. */
export async function* firstBytes(source: Readable, n: number): AsyncGenerator<Buffer> {
  let left = n;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (chunk.length >= left) {
        yield chunk.subarray(0, left);
        return;
      }
      left -= chunk.length;
      yield chunk;
    }
  } finally {
    source.destroy();
  }
}
