import type { Writable } from 'node:stream';

/**
 * Transfer progress on stderr. On a terminal: one line redrawn in place with `\r` (percent,
 * bytes, rate, ETA), at most every 100 ms. Elsewhere (CI logs): plain lines at the start,
 * at every 10% or 5 s, and at the end.
 */
export interface ProgressSink {
  /** `offset` bytes were already there (a resumed download); `total` is undefined when unknown. */
  start(name: string, total: number | undefined, offset: number): void;
  advance(bytes: number): void;
  /** The transfer completed. */
  finish(): void;
  /** The transfer failed: end a half-drawn line so an error message starts on its own. */
  stop(): void;
}

export const silentProgress: ProgressSink = {
  start: () => undefined,
  advance: () => undefined,
  finish: () => undefined,
  stop: () => undefined,
};

const REDRAW_MS = 100;
const PLAIN_INTERVAL_MS = 5000;
const BAR_WIDTH = 20;

/** How plain lines name the transfer: `downloading X` ... `downloaded N in S s`. */
export interface TransferWords {
  readonly starting: string;
  readonly resuming: string;
  readonly finished: string;
}

export const DOWNLOAD_WORDS: TransferWords = {
  starting: 'downloading',
  resuming: 'resuming',
  finished: 'downloaded',
};
export const UPLOAD_WORDS: TransferWords = {
  starting: 'uploading',
  resuming: 'resuming the upload of',
  finished: 'uploaded',
};

export function createProgress(
  stream: Writable & { isTTY?: boolean },
  now: () => number = () => performance.now(),
  words: TransferWords = DOWNLOAD_WORDS,
): ProgressSink {
  return stream.isTTY === true ? new TerminalProgress(stream, now) : new PlainProgress(stream, now, words);
}

abstract class Transfer implements ProgressSink {
  protected name = '';
  protected total: number | undefined;
  protected offset = 0;
  protected received = 0;
  protected startedAt = 0;

  constructor(
    protected readonly stream: Writable,
    protected readonly now: () => number,
  ) {}

  start(name: string, total: number | undefined, offset: number): void {
    this.name = name;
    this.total = total;
    this.offset = offset;
    this.received = 0;
    this.startedAt = this.now();
    this.started();
  }

  advance(bytes: number): void {
    this.received += bytes;
    this.advanced();
  }

  abstract finish(): void;
  abstract stop(): void;
  protected abstract started(): void;
  protected abstract advanced(): void;

  protected get position(): number {
    return this.offset + this.received;
  }

  /** Bytes per second over this run (a resumed part does not count). */
  protected rate(): number {
    const seconds = (this.now() - this.startedAt) / 1000;
    return seconds > 0 ? this.received / seconds : 0;
  }

  protected percent(): number | undefined {
    if (this.total === undefined || this.total === 0) return undefined;
    return Math.min(100, Math.floor((this.position / this.total) * 100));
  }

  protected eta(): string {
    const rate = this.rate();
    if (this.total === undefined || rate <= 0) return '--:--';
    return formatDuration(Math.max(0, this.total - this.position) / rate);
  }

  protected amounts(separator: string): string {
    return this.total === undefined
      ? formatBytes(this.position)
      : `${formatBytes(this.position)}${separator}${formatBytes(this.total)}`;
  }
}

class TerminalProgress extends Transfer {
  private drawn = false;
  private lastDraw = Number.NEGATIVE_INFINITY;

  protected started(): void {
    this.draw();
  }

  protected advanced(): void {
    if (this.now() - this.lastDraw >= REDRAW_MS) this.draw();
  }

  finish(): void {
    this.draw();
    this.stream.write('\n');
    this.drawn = false;
  }

  stop(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private draw(): void {
    this.lastDraw = this.now();
    const percent = this.percent();
    const bar =
      percent === undefined
        ? ''
        : `[${'#'.repeat(Math.round((percent / 100) * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${String(percent).padStart(3)}%  `;
    const line = `${shorten(this.name, 28)} ${bar}${this.amounts(' / ')}  ${formatBytes(this.rate())}/s  ETA ${this.eta()}`;
    // \x1b[K clears what a longer previous line left behind.
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }
}

class PlainProgress extends Transfer {
  private lastLine = 0;
  private lastTenth = 0;

  constructor(
    stream: Writable,
    now: () => number,
    private readonly words: TransferWords,
  ) {
    super(stream, now);
  }

  protected started(): void {
    this.lastLine = this.now();
    this.lastTenth = Math.floor((this.percent() ?? 0) / 10);
    const size = this.total === undefined ? 'size unknown' : formatBytes(this.total);
    this.stream.write(
      this.offset > 0
        ? `${this.words.resuming} ${this.name} at ${formatBytes(this.offset)} (${size})\n`
        : `${this.words.starting} ${this.name} (${size})\n`,
    );
  }

  protected advanced(): void {
    const percent = this.percent();
    const tenth = percent === undefined ? this.lastTenth : Math.floor(percent / 10);
    const due = this.now() - this.lastLine >= PLAIN_INTERVAL_MS;
    if ((tenth > this.lastTenth && tenth < 10) || (due && percent !== 100)) {
      this.lastTenth = tenth;
      this.lastLine = this.now();
      const head = percent === undefined ? '' : `${String(percent).padStart(3)}%  `;
      this.stream.write(`${head}${this.amounts(' of ')}  ${formatBytes(this.rate())}/s  ETA ${this.eta()}\n`);
    }
  }

  finish(): void {
    const seconds = (this.now() - this.startedAt) / 1000;
    this.stream.write(
      `${this.words.finished} ${formatBytes(this.received)} in ${seconds.toFixed(1)} s (${formatBytes(this.rate())}/s)\n`,
    );
  }

  stop(): void {}
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `m:ss`, or `h:mm:ss` from an hour on. */
export function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function shorten(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
