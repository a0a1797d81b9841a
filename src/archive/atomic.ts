import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file all-or-nothing: into a temp file beside the target, fsynced, then renamed over
 * it. On any failure the temp file is removed and the target is untouched.
 */
export async function writeAtomically<T>(
  target: string,
  write: (fh: FileHandle) => Promise<T>,
  mode = 0o644,
): Promise<T> {
  const temp = join(dirname(target), `.${basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
  const fh = await open(temp, 'wx', mode);
  let closed = false;
  try {
    const result = await write(fh);
    await fh.sync();
    await fh.close();
    closed = true;
    await rename(temp, target);
    await syncDirectory(dirname(target));
    return result;
  } catch (error) {
    if (!closed) await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (handle === null) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** Writes a whole buffer at the handle's current position, looping on short writes. */
export async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done);
    done += bytesWritten;
  }
}
