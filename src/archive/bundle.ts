import { createHash, randomBytes } from 'node:crypto';
import { constants, copyFile, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from './atomic.js';
import { type ArchiveSummary, inspectArchive } from './inspect.js';
import type { ArchiveLimits } from './limits.js';
import { buildTail, type NewEntry } from './splice.js';

export interface WrittenBundle {
  readonly sha256: string;
  readonly size: number;
  readonly replaced: boolean;
  readonly base: ArchiveSummary;
}

/**
 * Writes base prefix + new tail to `out`; the bundle appears at `out` complete or not at all.
 * Two things run at once: the kernel copies the base into a temp file (copy_file_range, or a
 * reflink where the filesystem can), while this thread reads the base once, checking its headers
 * and hashing the prefix. Then the tail overwrites the copy's old central directory.
 */
export async function writeBundle(
  basePath: string,
  entry: NewEntry,
  out: string,
  options: { limits?: ArchiveLimits; verifyData?: boolean; durable?: boolean } = {},
): Promise<WrittenBundle> {
  const temp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  const copying = copyFile(basePath, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  try {
    const [inspected] = await settleBoth(
      inspectArchive(basePath, {
        ...(options.limits === undefined ? {} : { limits: options.limits }),
        verifyData: options.verifyData ?? false,
        configPath: entry.path,
        sink: (chunk) => {
          hash.update(chunk);
        },
      }),
      copying,
    );
    const tail = buildTail(inspected.structure, entry);
    for (const part of tail.parts) hash.update(part);
    const size = tail.prefixLength + tail.length;
    const fh = await open(temp, 'r+');
    try {
      let position = tail.prefixLength;
      for (const part of tail.parts) {
        await fh.write(part, 0, part.length, position);
        position += part.length;
      }
      await fh.truncate(size);
      if (options.durable === true) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, out);
    if (options.durable === true) await syncDirectory(dirname(out));
    return { sha256: hash.digest('hex'), size, replaced: tail.replaced, base: inspected.summary };
  } catch (error) {
    await copying.catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Waits for both, then rethrows the first failure (so no copy is still running when we clean up). */
async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
  return [x.value, y.value];
}
