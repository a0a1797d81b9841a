import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
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

export interface WriteBundleOptions {
  readonly limits?: ArchiveLimits;
  readonly verifyData?: boolean;
  readonly durable?: boolean;
}

/**
 * Writes base prefix + new tail to `out`; the bundle appears at `out` complete or not at all.
 * The base is read once: the thread pool reads it window by window and writes each window to the
 * temp file as soon as it arrives, while this thread hashes the windows and checks the headers in
 * them. Reading and writing from the same memory costs less CPU than a kernel copy
 * (copy_file_range) plus a separate read for the checks, and two cores have none to spare.
 */
export async function writeBundle(
  basePath: string,
  entry: NewEntry,
  out: string,
  options: WriteBundleOptions = {},
): Promise<WrittenBundle> {
  const temp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(6).toString('hex')}`);
  const fh = await open(temp, 'wx', 0o644);
  const hash = createHash('sha256');
  let closed = false;
  try {
    const inspected = await inspectArchive(basePath, {
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      verifyData: options.verifyData ?? false,
      configPath: entry.path,
      sink: (chunk) => {
        hash.update(chunk);
      },
      copyTo: fh,
    });
    const tail = buildTail(inspected.structure, entry);
    const writing = writeParts(fh, tail.parts, tail.prefixLength);
    for (const part of tail.parts) hash.update(part);
    await writing;
    if (options.durable === true) await fh.sync();
    closed = true;
    await fh.close();
    await rename(temp, out);
    if (options.durable === true) await syncDirectory(dirname(out));
    return {
      sha256: hash.digest('hex'),
      size: tail.prefixLength + tail.length,
      replaced: tail.replaced,
      base: inspected.summary,
    };
  } catch (error) {
    if (!closed) await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Writes the pieces one after another from `position`: one writev, looping on a short write. */
async function writeParts(fh: FileHandle, parts: readonly Buffer[], position: number): Promise<void> {
  let remaining = parts.filter((part) => part.length > 0);
  let at = position;
  while (remaining.length > 0) {
    let { bytesWritten } = await fh.writev(remaining, at);
    at += bytesWritten;
    const rest: Buffer[] = [];
    for (const part of remaining) {
      if (bytesWritten >= part.length) bytesWritten -= part.length;
      else {
        rest.push(part.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    remaining = rest;
  }
}
