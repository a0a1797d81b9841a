import { createHash } from 'node:crypto';
import { type BigIntStats, read as fsRead } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { DurableFile, syncDirectory, writeFileDurably } from '../../common/durable.js';
import {
  AgentpackError,
  ConflictError,
  InsufficientStorageError,
  InternalError,
  NotFoundError,
  UnavailableError,
} from '../../common/errors.js';
import {
  blobKeyProblem,
  rangeNotSatisfiable,
  validateBlobKey,
  validateBlobPrefix,
  validateRange,
} from './key.js';
import { bufferChunks, digestMismatch, validateSha256 } from './stream.js';
import type {
  BlobInfo,
  BlobListEntry,
  BlobReader,
  BlobStore,
  ByteRange,
  PutOptions,
  PutResult,
} from './types.js';

export interface FsBlobStoreOptions {
  /** Directory holding the blobs; created on first write. */
  root: string;
}

/**
 * Names with '~' can never be keys (see validateBlobKey), so temp files (common/durable names
 * them `.<name>.~tmp-<hex>`) and sidecars cannot collide with an object and `list` can skip
 * them by name alone.
 */
const META_SUFFIX = '~meta';
/** Blob-store temp files of releases before common/durable.ts (which names them `.<name>.~tmp-<hex>`). */
export const TEMP_PREFIX = '~tmp-';
const durable = { component: 'fs blob store' } as const;

/**
 * The sidecar describes one exact file version: it is trusted only while the data file still has
 * the inode, size and mtime it records, so a crash or a race between the two renames can cost a
 * re-hash but never yields a wrong digest.
 */
interface Meta {
  sha256: string;
  contentType?: string;
  ino: string;
  size: string;
  mtimeNs: string;
}

function isMeta(value: unknown): value is Meta {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.sha256 === 'string' &&
    typeof v.ino === 'string' &&
    typeof v.size === 'string' &&
    typeof v.mtimeNs === 'string' &&
    (v.contentType === undefined || typeof v.contentType === 'string')
  );
}

function errno(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
/** A disk that fails or is gone for now (I/O error, remounted read-only, out of descriptors). */
const UNAVAILABLE = new Set(['EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'ESTALE']);

function fsError(op: string, key: string, error: unknown): AgentpackError {
  if (error instanceof AgentpackError) return error;
  const code = errno(error) ?? 'unknown error';
  if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
    return new ConflictError(
      `fs blob store cannot hold both a blob and keys below it: ${op} "${key}" failed (${code})`,
    );
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new InsufficientStorageError('storage', `fs blob store: ${op} "${key}" failed (${code})`, {
      cause: error,
    });
  }
  if (UNAVAILABLE.has(code)) {
    return new UnavailableError('storage', `fs blob store: ${op} "${key}" failed (${code})`, {
      cause: error,
    });
  }
  return new InternalError('STORAGE_FAILED', `fs blob store: ${op} "${key}" failed (${code})`, {
    cause: error,
  });
}

async function quietly(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch {
    // cleanup of something that may already be gone
  }
}

/**
 * The sidecar is a cache checked against the inode, size and mtime it records, so it needs no
 * fsync and a failure to write it is no failure of the put: a crash or a lost sidecar costs one
 * re-hash on the next head, never a wrong digest.
 */
async function writeMeta(file: string, meta: Buffer): Promise<void> {
  await writeFileDurably(`${file}${META_SUFFIX}`, meta, { ...durable, sync: false }).catch(() => undefined);
}

function metaFor(st: BigIntStats, info: { sha256: string; contentType?: string }): Buffer {
  const meta: Meta = { ...info, ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs) };
  return Buffer.from(JSON.stringify(meta));
}

function infoOf(st: BigIntStats, meta: { sha256: string; contentType?: string }): BlobInfo {
  return {
    size: Number(st.size),
    sha256: meta.sha256,
    etag: `${st.ino.toString(36)}-${st.mtimeNs.toString(36)}-${st.size.toString(36)}`,
    lastModified: new Date(Number(st.mtimeMs)),
    contentType: meta.contentType,
  };
}

const READ_CHUNK = 256 * 1024;

/**
 * Positional reads on the raw descriptor (the callback API costs less per call than FileHandle's
 * promises). `close` waits for reads in flight: a descriptor number closed under a pending read
 * could be reused by another file, whose bytes that read would then return.
 */
class FileReader implements BlobReader {
  private pending = 0;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly key: string,
  ) {}

  read(buffer: Buffer, position: number, length: number): Promise<number> {
    if (this.closing !== undefined)
      return Promise.reject(
        new InternalError('STORAGE_FAILED', `fs blob store: read "${this.key}" after close`),
      );
    this.pending++;
    return new Promise((resolve, reject) => {
      fsRead(this.fh.fd, buffer, 0, length, position, (error, bytesRead) => {
        if (--this.pending === 0) this.idle?.();
        if (error === null) resolve(bytesRead);
        else reject(fsError('read', this.key, error));
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      await this.fh.close();
    })();
    return this.closing;
  }
}

export function createFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  if (typeof options.root !== 'string' || options.root === '') {
    throw new InternalError('CONFIG_INVALID', 'fs blob store: expected a root directory, got none');
  }
  const root = path.resolve(options.root);
  const fileOf = (key: string): string => path.join(root, ...key.split('/'));

  /**
   * Creates the directory and a temp file in it. A concurrent delete may prune a directory we
   * just created, so ENOENT on open means "create it again".
   */
  async function openTemp(target: string): Promise<{ file: DurableFile; created: string | undefined }> {
    for (let attempt = 1; ; attempt++) {
      const created = await mkdir(path.dirname(target), { recursive: true });
      try {
        return { file: await DurableFile.open(target, durable), created };
      } catch (error) {
        if (errno(error) !== 'ENOENT' || attempt >= 3) throw error;
      }
    }
  }

  /** Makes the temp file durable and visible, then records its digest beside it. */
  async function commit(
    file: DurableFile,
    created: string | undefined,
    info: { sha256: string; contentType?: string },
  ): Promise<void> {
    // Read through the handle before the rename: once the name is visible, a racing put may
    // replace it, and the sidecar must describe this version.
    let st: BigIntStats;
    try {
      st = await file.handle.stat({ bigint: true });
    } catch (error) {
      await file.discard();
      throw error;
    }
    await file.commit();
    await writeMeta(file.target, metaFor(st, info));
    if (created !== undefined) {
      // New directories are durable only once their parents are synced too.
      const top = path.dirname(created);
      for (let d = path.dirname(file.target); d !== top && d !== path.dirname(d); d = path.dirname(d))
        await syncDirectory(path.dirname(d));
    }
  }

  async function put(key: string, source: Readable | Buffer, opts: PutOptions = {}): Promise<PutResult> {
    validateBlobKey(key);
    const expected = validateSha256(opts.sha256);
    let temp: Awaited<ReturnType<typeof openTemp>>;
    try {
      temp = await openTemp(fileOf(key));
    } catch (error) {
      throw fsError('put', key, error);
    }
    const { file, created } = temp;
    let sha256: string;
    let size = 0;
    try {
      const hash = createHash('sha256');
      // Errors from the source propagate as they are; only file-system errors are translated.
      for await (const chunk of bufferChunks(source)) {
        hash.update(chunk);
        size += chunk.length;
        await file.write(chunk).catch((error: unknown) => {
          throw fsError('put', key, error);
        });
      }
      sha256 = hash.digest('hex');
      if (expected !== undefined && expected !== sha256) throw digestMismatch(key, expected, sha256);
    } catch (error) {
      await file.discard();
      throw error;
    }
    await commit(file, created, { sha256, contentType: opts.contentType }).catch((error: unknown) => {
      throw fsError('put', key, error);
    });
    return { size, sha256 };
  }

  /** Opens the current version of `key`: the open handle pins it, as an overwrite renames a new file over the name. */
  async function openVersion(
    op: string,
    key: string,
    range?: ByteRange,
  ): Promise<{ fh: FileHandle; size: number }> {
    let fh: FileHandle;
    try {
      fh = await open(fileOf(key), 'r');
    } catch (error) {
      if (ABSENT.has(errno(error) ?? '')) throw new NotFoundError(`no blob "${key}"`);
      throw fsError(op, key, error);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new NotFoundError(`no blob "${key}"`);
      if (range && range.start >= st.size) throw rangeNotSatisfiable(key, range, st.size);
      return { fh, size: st.size };
    } catch (error) {
      await quietly(fh.close());
      throw fsError(op, key, error);
    }
  }

  async function get(key: string, range?: ByteRange): Promise<Readable> {
    validateBlobKey(key);
    if (range) validateRange(range);
    const { fh } = await openVersion('get', key, range);
    // 256 KiB reads: a quarter of the syscalls of the 64 KiB default. (Bundle downloads read
    // through openReader, into buffers of their own.)
    const highWaterMark = READ_CHUNK;
    return fh.createReadStream(
      range ? { start: range.start, end: range.end, highWaterMark } : { highWaterMark },
    );
  }

  async function openReader(key: string): Promise<BlobReader> {
    validateBlobKey(key);
    const { fh, size } = await openVersion('read', key);
    return new FileReader(fh, size, key);
  }

  async function readMeta(file: string, st: BigIntStats): Promise<Meta | undefined> {
    try {
      const meta: unknown = JSON.parse(await readFile(`${file}${META_SUFFIX}`, 'utf8'));
      if (!isMeta(meta)) return undefined;
      const current =
        meta.ino === String(st.ino) && meta.size === String(st.size) && meta.mtimeNs === String(st.mtimeNs);
      return current ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Hashes the version `file` names now and records it. Needed when the sidecar describes another
   * version: after a crash between the two renames, or when racing puts renamed them interleaved.
   */
  async function rehash(file: string): Promise<BlobInfo | null> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (error) {
      if (ABSENT.has(errno(error) ?? '')) return null;
      throw error;
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) return null;
      const hash = createHash('sha256');
      for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
      const sha256 = hash.digest('hex');
      await writeMeta(file, metaFor(st, { sha256 }));
      return infoOf(st, { sha256 });
    } finally {
      await fh.close();
    }
  }

  async function head(key: string): Promise<BlobInfo | null> {
    validateBlobKey(key);
    const file = fileOf(key);
    try {
      const st = await stat(file, { bigint: true });
      if (!st.isFile()) return null;
      const meta = await readMeta(file, st);
      return meta ? infoOf(st, meta) : await rehash(file);
    } catch (error) {
      if (ABSENT.has(errno(error) ?? '')) return null;
      throw fsError('head', key, error);
    }
  }

  /** Removes now-empty directories up to the root, stopping at the first one still in use. */
  async function prune(dir: string): Promise<void> {
    for (let d = dir; d.startsWith(`${root}${path.sep}`); d = path.dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return;
      }
    }
  }

  async function del(key: string): Promise<void> {
    validateBlobKey(key);
    const file = fileOf(key);
    for (const name of [file, `${file}${META_SUFFIX}`]) {
      try {
        await unlink(name);
      } catch (error) {
        if (!ABSENT.has(errno(error) ?? '') && errno(error) !== 'EPERM') throw fsError('delete', key, error);
      }
    }
    await prune(path.dirname(file));
  }

  async function* walk(rel: string, prefix: string): AsyncGenerator<BlobListEntry> {
    let entries: { name: string; dir: boolean }[];
    try {
      const dirents = await readdir(path.join(root, ...rel.split('/')), { withFileTypes: true });
      entries = dirents.map((d) => ({ name: d.name, dir: d.isDirectory() }));
    } catch (error) {
      if (ABSENT.has(errno(error) ?? '')) return;
      throw fsError('list', prefix, error);
    }
    // Sorting directories as "name/" yields keys in the same byte order S3 lists them.
    const sortName = (e: { name: string; dir: boolean }): string => (e.dir ? `${e.name}/` : e.name);
    entries.sort((a, b) => (sortName(a) < sortName(b) ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.includes('~')) continue;
      const key = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.dir) {
        const asDir = `${key}/`;
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) yield* walk(key, prefix);
      } else if (key.startsWith(prefix) && blobKeyProblem(key) === undefined) {
        const st = await stat(path.join(root, ...key.split('/'))).catch(() => undefined);
        if (st?.isFile()) yield { key, size: st.size };
      }
    }
  }

  async function* list(prefix: string): AsyncGenerator<BlobListEntry> {
    validateBlobPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    yield* walk(slash < 0 ? '' : prefix.slice(0, slash), prefix);
  }

  const store: BlobStore = {
    put,
    get,
    openReader,
    head,
    delete: del,
    list,
    async close() {},
  };
  return store;
}
