import { createWriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArchiveLimits } from '../archive/limits.js';
import { type PreparedBase, prepareBase } from '../archive/prepared.js';
import type { BlobStore } from '../storage/blob/types.js';
import type { AgentVersionRow } from '../storage/db/types.js';
import { claimTemp, localDiskError, releaseTemp, tempName } from '../storage/temp-files.js';

/** Name prefix of base copies in the bundle layer's temp directory (see storage/temp-files). */
export const BASE_PREFIX = 'base-';

/**
 * Prepared bases (central directory + hash state of the prefix), kept per process. A miss reads
 * the base once from the blob store; later bundles from it cost only their tail.
 */
export class BaseCache {
  private readonly entries = new Map<string, Promise<PreparedBase>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly tmpDir: string,
    private readonly limits: ArchiveLimits,
    private readonly capacity = 8,
  ) {}

  get(base: AgentVersionRow): Promise<PreparedBase> {
    const cached = this.entries.get(base.sha256);
    if (cached !== undefined) {
      this.entries.delete(base.sha256);
      this.entries.set(base.sha256, cached);
      return cached;
    }
    const loading = this.load(base);
    this.remember(base.sha256, loading);
    loading.catch(() => this.entries.delete(base.sha256));
    return loading;
  }

  /** Adds a base prepared elsewhere (at upload), so the first download does not read it again. */
  remember(sha256: string, prepared: Promise<PreparedBase>): void {
    this.entries.set(sha256, prepared);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  private async load(base: AgentVersionRow): Promise<PreparedBase> {
    const path = join(this.tmpDir, tempName(BASE_PREFIX));
    claimTemp(path);
    try {
      await mkdir(this.tmpDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
        throw localDiskError('copying a base', error);
      });
      const source = await this.blobs.get(base.blobKey);
      // Only the local file's errors are the disk's; the store's arrive translated already.
      const file = createWriteStream(path, { mode: 0o600 });
      await pipeline(source, file).catch((error: unknown) => {
        throw file.errored === error ? localDiskError('copying a base', error) : error;
      });
      return await prepareBase(path, { limits: this.limits });
    } finally {
      await unlink(path).catch(() => undefined);
      releaseTemp(path);
    }
  }
}
