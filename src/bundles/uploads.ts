import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Stream, Transform } from 'node:stream';
import { BadRequestError, InternalError, PayloadTooLargeError } from '../common/errors.js';
import { claimTemp, localDiskError, releaseTemp, tempName } from '../storage/temp-files.js';

export function uploadTooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`upload is larger than the limit of ${limit} bytes`);
}

/** Name prefix of upload spool files in the bundle layer's temp directory (see storage/temp-files). */
export const UPLOAD_PREFIX = 'upload-';

/**
 * Spools an upload to a private temp file, counting bytes as they arrive so an oversized body
 * is cut off at the limit instead of filling the disk. Returns the path; the caller removes it
 * and then calls `releaseTemp(path)`. Over the limit the rest of the body is discarded, not torn
 * down, so the client still gets the 413 (the route closes the connection after it). A full
 * local disk answers 507.
 */
export async function spoolUpload(
  source: Readable,
  tmpDir: string,
  maxBytes: number,
): Promise<{ path: string; size: number; sha256: string }> {
  if (!(source instanceof Stream)) {
    // A body some parser already consumed would never end; refuse it before any file exists.
    throw new InternalError('UPLOAD_INVALID', 'expected the request body as a byte stream');
  }
  const path = join(tmpDir, tempName(UPLOAD_PREFIX));
  claimTemp(path);
  try {
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    return await spool(source, path, maxBytes);
  } catch (error) {
    releaseTemp(path);
    throw localDiskError('spooling the upload', error);
  }
}

async function spool(
  source: Readable,
  path: string,
  maxBytes: number,
): Promise<{ path: string; size: number; sha256: string }> {
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
    file.destroy();
    await new Promise<void>((resolve) => (file.closed ? resolve() : file.once('close', () => resolve())));
    await unlink(path).catch(() => undefined);
    throw error;
  }
}
