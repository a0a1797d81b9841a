import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { writeFileDurably } from '../common/durable.js';
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
  const hash = createHash('sha256');
  // Without `durable` the bundle is not fsynced: `pack` output is redone by running it again,
  // and an fsync of a large bundle would dominate what `npm run bench` measures for it.
  return writeFileDurably(
    out,
    async (fh) => {
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
      return {
        sha256: hash.digest('hex'),
        size: tail.prefixLength + tail.length,
        replaced: tail.replaced,
        base: inspected.summary,
      };
    },
    { component: 'bundle writer', sync: options.durable === true },
  );
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
