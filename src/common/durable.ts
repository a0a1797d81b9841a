import { randomBytes } from 'node:crypto';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The one way agentpack writes a file: into a temp file beside the target, fsynced, renamed over
 * the target (or hard-linked, for an exclusive create), then the directory fsynced.
 *
 * One failure policy for every writer: after a failed call the target is either the old file or
 * the complete new one, and the temp file is gone. File-system failures of these steps are
 * rethrown as a `DurableWriteError` naming the component and the target (not the temp file),
 * keeping the errno `code` and the original error as `cause`; errors thrown by a caller's own
 * producer pass through unchanged, as they are the caller's to explain (a hostile archive, a
 * source stream that broke).
 */
export interface DurableWriteOptions {
  /** Names the writer in error messages: `signing keyring`, `fs blob store`, ... */
  readonly component: string;
  /** Permission bits of the new file; default 0o644. Secrets use 0o600. */
  readonly mode?: number;
  /**
   * Create only, never replace: the finished temp file is hard-linked to the target, which fails
   * (code EEXIST) when another writer got there first. Readers never see a half-written file.
   */
  readonly exclusive?: boolean;
  /**
   * fsync the file and its directory; default true. Turned off only where losing the file in a
   * crash costs nothing but a redo (caches, a `pack` output the user re-runs); the all-or-nothing
   * rule still holds for errors.
   */
  readonly sync?: boolean;
}

/** Bytes to store, or a producer that writes them through the temp file's handle. */
export type DurableContent<T> = string | Uint8Array | ((handle: FileHandle) => Promise<T>);

/**
 * Every temp file's name ends with `.~tmp-` and 16 hex digits, so a start-up sweep can find
 * leftovers of a crash. The `~` also keeps them out of blob keys, which may not contain one.
 */
export const TEMP_MARKER = '.~tmp-';
export const TEMP_NAME = /\.~tmp-[0-9a-f]{16}$/;
// Long enough to tell temp files apart, short enough to stay under NAME_MAX for any target.
const NAME_PART = 64;

export class DurableWriteError extends Error {
  /** The errno code of the failed step (`EACCES`, `ENOSPC`, `EEXIST`, ...), when it had one. */
  readonly code: string | undefined;
  /** The target, so a one-line report names the file the user asked for. */
  readonly path: string;

  constructor(component: string, step: string, path: string, cause: unknown) {
    const code = errnoOf(cause);
    super(`${component}: could not write ${path}: ${step} failed (${code ?? messageOf(cause)})`, { cause });
    this.name = 'DurableWriteError';
    this.code = code;
    this.path = path;
  }
}

export function tempPathFor(target: string): string {
  const name = basename(target).slice(0, NAME_PART);
  return join(dirname(target), `.${name}${TEMP_MARKER}${randomBytes(8).toString('hex')}`);
}

/** Writes `content` to `target` durably; returns what a producer returned. */
export async function writeFileDurably(
  target: string,
  content: string | Uint8Array,
  options: DurableWriteOptions,
): Promise<void>;
export async function writeFileDurably<T>(
  target: string,
  content: (handle: FileHandle) => Promise<T>,
  options: DurableWriteOptions,
): Promise<T>;
export async function writeFileDurably(
  target: string,
  content: DurableContent<unknown>,
  options: DurableWriteOptions,
): Promise<unknown> {
  const file = await DurableFile.open(target, options);
  let result: unknown;
  try {
    if (typeof content === 'function') result = await content(file.handle);
    else await file.write(content);
  } catch (error) {
    await file.discard();
    throw error;
  }
  await file.commit();
  return result;
}

/**
 * The lower-level handle, for writers that need the temp file open across steps of their own
 * (hashing a stream as it is written, reading the file's identity before it becomes visible).
 * Either `commit` or `discard` must follow `open`.
 */
export class DurableFile {
  private finished = false;

  private constructor(
    readonly target: string,
    readonly tempPath: string,
    readonly handle: FileHandle,
    private readonly options: DurableWriteOptions,
  ) {}

  static async open(target: string, options: DurableWriteOptions): Promise<DurableFile> {
    const temp = tempPathFor(target);
    try {
      return new DurableFile(target, temp, await open(temp, 'wx', options.mode ?? 0o644), options);
    } catch (error) {
      throw new DurableWriteError(options.component, 'creating a temp file', target, error);
    }
  }

  /** Writes at the current position, looping on short writes. */
  async write(data: string | Uint8Array): Promise<void> {
    try {
      await writeAll(this.handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    } catch (error) {
      throw new DurableWriteError(this.options.component, 'write', this.target, error);
    }
  }

  /** Makes the temp file the target; on failure removes it and rethrows. */
  async commit(): Promise<void> {
    const { component, exclusive = false, sync = true } = this.options;
    let step = 'fsync';
    try {
      if (sync) await this.handle.sync();
      step = 'close';
      this.finished = true;
      await this.handle.close();
      step = exclusive ? 'link' : 'rename';
      if (exclusive) {
        await link(this.tempPath, this.target);
        step = 'removing the temp file';
        await unlink(this.tempPath);
      } else await rename(this.tempPath, this.target);
      step = 'directory fsync';
      if (sync) await syncDirectory(dirname(this.target));
    } catch (error) {
      await this.discard();
      throw new DurableWriteError(component, step, this.target, error);
    }
  }

  /** Closes and removes the temp file; never throws (it may already be gone). */
  async discard(): Promise<void> {
    if (!this.finished) {
      this.finished = true;
      await this.handle.close().catch(() => undefined);
    }
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/**
 * fsyncs a directory so the renames in it survive a crash. Some file systems cannot fsync a
 * directory (EINVAL, ENOTSUP): the rename itself is still atomic there, so that is not an error.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    const code = errnoOf(error);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  } finally {
    await handle.close();
  }
}

/** Writes a whole buffer at the handle's current position, looping on short writes. */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done);
    done += bytesWritten;
  }
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
