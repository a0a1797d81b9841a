import type { Readable } from 'node:stream';

/** Inclusive byte range, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  contentType?: string;
  /**
   * The SHA-256 (hex) the caller expects. It is checked before the object becomes visible, so a
   * mismatch stores nothing; on a large S3 upload it also spares a metadata rewrite.
   */
  sha256?: string;
}

export interface PutResult {
  size: number;
  sha256: string;
}

export interface BlobInfo {
  size: number;
  /** Absent when the object was written without a known digest and it could not be recorded. */
  sha256?: string;
  /** Opaque; changes whenever the object is rewritten. */
  etag?: string;
  lastModified: Date;
  contentType?: string;
}

export interface BlobListEntry {
  key: string;
  size: number;
}

/**
 * Positional reads of one stored object, into buffers the caller owns: a server can then serve a
 * large object through a few reused buffers instead of a fresh allocation per chunk.
 */
export interface BlobReader {
  /** Size of the version that was opened (it stays readable across an overwrite). */
  readonly size: number;
  /** Reads up to `length` bytes at `position` into the start of `buffer`; 0 at the end of the object. */
  read(buffer: Buffer, position: number, length: number): Promise<number>;
  /** Waits for reads in progress, then releases the object. Idempotent. */
  close(): Promise<void>;
}

/**
 * Where archives and bundles live: local disk by default, S3 when instances share storage.
 * Kept narrow so both implementations pass one contract suite and callers never see a driver
 * error: a missing object is a NotFoundError, backend failures are AgentpackErrors naming the
 * store, and every key passes `validateBlobKey` first.
 */
export interface BlobStore {
  /**
   * Streams `source` into `key`, hashing and counting on the way. All or nothing: readers see
   * the previous object (or none) until the new one is complete, and a source that errors or
   * ends early leaves nothing behind. Errors raised by the source are rethrown unchanged, so a
   * size limit enforced upstream keeps its status.
   */
  put(key: string, source: Readable | Buffer, opts?: PutOptions): Promise<PutResult>;

  /**
   * Opens the object, or an inclusive range of it (an `end` past the last byte is clamped, like
   * HTTP). Resolves only once the object is known to exist, so a missing key rejects here with a
   * NotFoundError instead of failing mid-stream; a start past the end rejects with status 416.
   * The caller must consume or destroy the stream: on S3 it holds a connection.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;

  /**
   * Optional: opens the object for positional reads. Only stores with cheap random access (local
   * disk) offer it; callers fall back to `get`. Rejects with a NotFoundError for a missing key.
   */
  openReader?(key: string): Promise<BlobReader>;

  /** Cheap existence and size check; null when absent. */
  head(key: string): Promise<BlobInfo | null>;

  /** Removes the object; deleting a missing key is not an error, so retries are safe. */
  delete(key: string): Promise<void>;

  /** Every object whose key starts with `prefix` (a plain string prefix, not a directory). */
  list(prefix: string): AsyncIterable<BlobListEntry>;

  /** Releases connections; the store must not be used afterwards. */
  close(): Promise<void>;
}
