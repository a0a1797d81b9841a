import { createHash, type Hash } from 'node:crypto';
import { type ArchiveSummary, inspectArchive } from './inspect.js';
import type { ArchiveLimits } from './limits.js';
import { buildTail, type NewEntry, type Tail } from './splice.js';
import type { ArchiveStructure } from './structure.js';

/**
 * A base archive read once, ready to splice many bundles from: its directory and the SHA-256
 * state of its unchanged prefix. Each bundle then costs a tail build and a hash of the tail.
 */
export interface PreparedBase {
  readonly path: string;
  readonly summary: ArchiveSummary;
  readonly structure: ArchiveStructure;
  /** SHA-256 state after [0, centralDirectoryOffset); copy it, never update it. */
  readonly prefixHash: Hash;
}

export interface SplicedBundle {
  readonly tail: Tail;
  readonly sha256: string;
  readonly size: number;
}

export async function prepareBase(
  path: string,
  options: { limits?: ArchiveLimits; verifyData?: boolean } = {},
): Promise<PreparedBase> {
  const prefixHash = createHash('sha256');
  const { summary, structure } = await inspectArchive(path, {
    ...options,
    verifyData: options.verifyData ?? false,
    sink: (chunk) => {
      prefixHash.update(chunk);
    },
  });
  return { path, summary, structure, prefixHash };
}

/** The per-organization step: O(config + central directory), independent of the base's size. */
export function spliceBundle(base: PreparedBase, entry: NewEntry): SplicedBundle {
  const tail = buildTail(base.structure, entry);
  const hash = base.prefixHash.copy();
  for (const part of tail.parts) hash.update(part);
  return { tail, sha256: hash.digest('hex'), size: tail.prefixLength + tail.length };
}
