import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AgentpackError } from '../errors.js';

export class PayloadTooLargeError extends AgentpackError {
  constructor(limit: number) {
    super('PAYLOAD_TOO_LARGE', `upload is larger than the limit of ${limit} bytes`, 413);
    this.name = 'PayloadTooLargeError';
  }
}

/**
 * Spools an upload to a private temp file, counting bytes as they arrive so an oversized body
 * is cut off at the limit instead of filling the disk. Returns the path; the caller removes it.
 */
export async function spoolUpload(
  source: Readable,
  tmpDir: string,
  maxBytes: number,
): Promise<{ path: string; size: number; sha256: string }> {
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const path = join(tmpDir, `upload-${randomBytes(8).toString('hex')}`);
  const fh = await open(path, 'wx', 0o600);
  let size = 0;
  const hash = createHash('sha256');
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
      hash.update(chunk);
      let done = 0;
      while (done < chunk.length) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
    }
    await fh.close();
    return { path, size, sha256: hash.digest('hex') };
  } catch (error) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    if (!source.destroyed) source.destroy();
    throw error;
  }
}
