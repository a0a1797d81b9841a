import type { FileHandle } from 'node:fs/promises';
import { ArchiveError } from '../common/errors.js';
import { keepLayout } from './keep-layout.js';

/**
 * Receives every byte of the streamed range exactly once, in order (hashing). The chunk's memory
 * is reused for a later window: a sink must be done with it when it returns.
 */
export type ChunkSink = (chunk: Buffer) => void;

/** Bytes of the file starting at `buf[at]`. */
export interface View {
  readonly buf: Buffer;
  readonly at: number;
}

export interface PrefixStreamOptions {
  readonly sink?: ChunkSink;
  /** Also write every window to this file, at the same offset (the splice writer's copy). */
  readonly copyTo?: FileHandle;
}

const WINDOW = 1024 * 1024;
/** Windows read ahead of the scanner: the thread pool reads and copies while this thread checks. */
const AHEAD = 8;
/** Buffers in use before a new read waits for a released window's copy to finish. */
const MAX_BUFFERS = AHEAD + 4;
const EMPTY = Buffer.alloc(0);
const ignore = () => undefined;

interface Window {
  readonly start: number;
  readonly end: number;
  /** The window's memory once its bytes are read. */
  readonly loaded: Promise<Buffer>;
  /** Set as soon as `loaded` resolves, before anything awaiting it resumes. */
  buf: Buffer | undefined;
  /** The copy is over, whatever its outcome. */
  readonly copied: Promise<void>;
}

/**
 * Streams [0, limit) of a file front to back in 1 MiB windows, several read ahead on the thread
 * pool. Each window is written to `copyTo` (same offset) and handed to the sink, in order, as
 * soon as it is read, so reading, copying and hashing overlap with the scanner. The scanner reads
 * headers in place, without an await, while they lie in the first window still held (`buffer`),
 * and through `view` otherwise. Offsets only move forward.
 */
export class PrefixStream {
  private window: Buffer = EMPTY;
  private windowStart = 0;
  private windowEnd = 0;
  /** Issued and not yet let go by the scanner, in file order. */
  private readonly held: Window[] = [];
  private readonly free: Buffer[] = [];
  /** Let go by the scanner; each settles when its memory is free again. Oldest first. */
  private readonly draining: Promise<void>[] = [];
  private readonly pending = new Set<Promise<void>>();
  private allocated = 0;
  private issued = 0;
  private released = 0;
  /** Everything before this offset went to the sink. */
  private sunk = 0;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly limit: number,
    private readonly options: PrefixStreamOptions = {},
  ) {
    this.fill();
    keepLayout(this);
  }

  /**
   * The first window held, once its bytes are there: file bytes [bufferStart, bufferEnd) from
   * buffer[0] (empty while it is being read). Valid until the next await on this stream.
   */
  get buffer(): Buffer {
    return this.window;
  }

  get bufferStart(): number {
    return this.windowStart;
  }

  get bufferEnd(): number {
    return this.windowEnd;
  }

  /**
   * The bytes [offset, offset + length) (within the limit): in place when one window holds them,
   * else copied together. The windows before `offset` are let go.
   */
  async view(offset: number, length: number): Promise<View> {
    await this.releaseBefore(offset);
    const end = offset + length;
    while (this.issued < end) this.issue();
    const first = this.held[0];
    if (first === undefined || length === 0) return { buf: EMPTY, at: 0 };
    const buf = await first.loaded;
    if (end <= first.end) return { buf, at: offset - first.start };
    const joined = Buffer.allocUnsafe(length);
    for (const window of this.held) {
      if (window.start >= end) break;
      const from = Math.max(offset, window.start);
      const to = Math.min(end, window.end);
      (await window.loaded).copy(joined, from - offset, from - window.start, to - window.start);
    }
    return { buf: joined, at: 0 };
  }

  /** Reads the rest and waits for every copy; throws the first read, copy or sink failure. */
  async finish(): Promise<void> {
    await this.releaseBefore(this.limit);
    await Promise.all(this.pending);
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Waits until no read or copy is running any more (before the caller closes or removes files). */
  async abort(): Promise<void> {
    await Promise.all(this.pending);
  }

  private async releaseBefore(offset: number): Promise<void> {
    while (this.released < offset) {
      if (this.held.length === 0) this.issue();
      const window = this.held[0] as Window;
      if (window.end > offset) break;
      const buf = await window.loaded;
      // Its load handler ran first, and every window before it was loaded: the sink has it.
      if (this.sunk < window.end) throw new Error('PrefixStream: a window was let go before the sink had it');
      this.held.shift();
      this.expose();
      this.released = window.end;
      const done = window.copied.then(() => {
        this.draining.splice(this.draining.indexOf(done), 1);
        this.free.push(buf);
      });
      this.draining.push(done);
      this.fill();
    }
    this.expose();
  }

  private fill(): void {
    while (this.held.length < AHEAD && this.issued < this.limit) this.issue();
  }

  private issue(): void {
    const start = this.issued;
    const end = Math.min(this.limit, start + WINDOW);
    this.issued = end;
    const loaded = this.acquire().then(async (buf) => {
      await readFully(this.fh, buf, end - start, start);
      return buf;
    });
    const copyTo = this.options.copyTo;
    const copied = this.track(
      copyTo === undefined ? loaded : loaded.then((buf) => writeFully(copyTo, buf, end - start, start)),
    );
    const window: Window = { start, end, loaded, buf: undefined, copied };
    this.held.push(window);
    void loaded.then((buf) => {
      window.buf = buf;
      this.sinkLoaded();
      if (this.held[0] === window) this.expose();
    }, ignore);
  }

  /** Hands the sink every window read so far, in file order. */
  private sinkLoaded(): void {
    const sink = this.options.sink;
    for (const window of this.held) {
      if (window.end <= this.sunk) continue;
      if (window.buf === undefined) return;
      this.sunk = window.end;
      if (sink === undefined) continue;
      try {
        sink(window.buf.subarray(0, window.end - window.start));
      } catch (error) {
        this.failure ??= { error };
      }
    }
  }

  /** Keeps a promise for finish/abort; its failure is reported by finish. Settles, never rejects. */
  private track(promise: Promise<unknown>): Promise<void> {
    const settled = promise.then(ignore, (error: unknown) => {
      this.failure ??= { error };
    });
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    return settled;
  }

  /** A free buffer; a new one while under the cap, or when no copy is left to wait for. */
  private async acquire(): Promise<Buffer> {
    for (;;) {
      const buf = this.free.pop();
      if (buf !== undefined) return buf;
      const oldest = this.draining[0];
      if (oldest === undefined || this.allocated < MAX_BUFFERS) {
        this.allocated++;
        return Buffer.allocUnsafe(WINDOW);
      }
      await oldest;
    }
  }

  /** Points the in-place fast path at the first window held, if its bytes are there yet. */
  private expose(): void {
    const first = this.held[0];
    if (first?.buf === undefined) {
      this.window = EMPTY;
      this.windowStart = 0;
      this.windowEnd = 0;
      return;
    }
    this.window = first.buf;
    this.windowStart = first.start;
    this.windowEnd = first.end;
  }
}

async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0)
      throw new ArchiveError(`archive is truncated: expected data at offset ${position + done}`);
    done += bytesRead;
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, position + done);
    done += bytesWritten;
  }
}
