import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { BadRequestError, PayloadTooLargeError } from '../common/errors.js';

export function uploadTooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`upload is larger than the limit of ${limit} bytes`);
}

/**
 * Spools an upload to a private temp file, counting bytes as they arrive so an oversized body
 * is cut off at the limit instead of filling the disk. Returns the path; the caller removes it.
 * Over the limit the rest of the body is discarded, not torn down, so the client still gets
 * the 413 (the route closes the connection after it).
 */
export async function spoolUpload(
  source: Readable,
  tmpDir: string,
  maxBytes: number,
): Promise<{ path: string; size: number; sha256: string }> {
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const path = join(tmpDir, `upload-${randomBytes(8).toString('hex')}`);
  const hash = createHash('sha256');
  let size = 0;
  const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) return done(uploadTooLarge(maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let ended = false;
      const fail = (error: unknown) => {
        source.unpipe(counter);
        source.resume();
        file.destroy();
        reject(error);
      };
      source.once('end', () => {
        ended = true;
      });
      source.once('close', () => {
        if (!ended) fail(new BadRequestError('UPLOAD_ABORTED', 'the upload was interrupted before it ended'));
      });
      source.once('error', fail);
      counter.once('error', fail);
      file.once('error', fail);
      file.once('close', () => (ended ? resolve() : undefined));
      source.pipe(counter).pipe(file);
    });
    return { path, size, sha256: hash.digest('hex') };
  } catch (error) {
    await new Promise<void>((resolve) => (file.closed ? resolve() : file.once('close', () => resolve())));
    await unlink(path).catch(() => undefined);
    throw error;
  }
}
