import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, lstat, open, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from '../common/durable.js';

/**
 * The hidden file a download is written to (`.<name>.part` beside the target) and its sidecar
 * (`.<name>.part.etag`) naming the bundle it holds the start of. The target is only ever
 * replaced by renaming a complete, verified part file over it.
 */
export class PartFile {
  readonly path: string;
  readonly etagPath: string;

  constructor(readonly target: string) {
    this.path = join(dirname(target), `.${basename(target)}.part`);
    this.etagPath = `${this.path}.etag`;
  }

  /**
   * How many bytes of the bundle with this digest an earlier, interrupted download left; 0
   * (and the leftovers removed) when there is no part file or it belongs to another bundle.
   */
  async resumableBytes(sha256Hex: string): Promise<number> {
    const [etag, stats] = await Promise.all([
      readFile(this.etagPath, 'utf8').catch(() => undefined),
      lstat(this.path).catch(() => undefined),
    ]);
    if (etag?.trim() === `"${sha256Hex}"` && stats?.isFile() === true && stats.size > 0) return stats.size;
    if (etag !== undefined || stats !== undefined) await this.remove();
    return 0;
  }

  /** Opens the part file for writing from `offset` (0: a fresh start, which records the ETag first). */
  async open(sha256Hex: string, offset: number): Promise<FileHandle> {
    if (offset === 0) {
      await this.remove();
      await writeFile(this.etagPath, `"${sha256Hex}"\n`, { mode: 0o600 });
      // The bundle carries the organization's credentials: readable by its owner only.
      return open(this.path, 'wx', 0o600);
    }
    await truncate(this.path, offset);
    return open(this.path, 'a');
  }

  /** A hash already fed the first `bytes` bytes of the part file. */
  async hashOfFirst(bytes: number): Promise<Hash> {
    const hash = createHash('sha256');
    if (bytes === 0) return hash;
    for await (const chunk of createReadStream(this.path, { start: 0, end: bytes - 1 })) hash.update(chunk);
    return hash;
  }

  /** Moves the finished part file over the target (the handle must be synced and closed). */
  async commit(): Promise<void> {
    await rename(this.path, this.target);
    await syncDirectory(dirname(this.target));
    await rm(this.etagPath, { force: true });
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
    await rm(this.etagPath, { force: true });
  }
}
