import { createHash } from 'node:crypto';
import { writeAll, writeAtomically } from './atomic.js';
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
 * Writes base prefix + new tail to `out` in one streaming pass, checking the base's headers and
 * hashing on the way; the bundle appears at `out` complete or not at all.
 */
export async function writeBundle(
  basePath: string,
  entry: NewEntry,
  out: string,
  options: { limits?: ArchiveLimits; verifyData?: boolean } = {},
): Promise<WrittenBundle> {
  return writeAtomically(out, async (fh) => {
    const hash = createHash('sha256');
    let size = 0;
    const sink = async (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
      await writeAll(fh, chunk);
    };
    const inspected = await inspectArchive(basePath, {
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      verifyData: options.verifyData ?? false,
      configPath: entry.path,
      sink,
    });
    const tail = buildTail(inspected.structure, entry);
    hash.update(tail.bytes);
    size += tail.bytes.length;
    await writeAll(fh, tail.bytes);
    return { sha256: hash.digest('hex'), size, replaced: tail.replaced, base: inspected.summary };
  });
}
