import type { FileHandle } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { ArchiveError } from '../errors.js';
import {
  FLAG_DESCRIPTOR,
  FLAG_ENCRYPTED,
  FLAG_STRONG_ENCRYPTION,
  LOCAL_HEADER_SIZE,
  METHOD_DEFLATED,
  parseExtraFields,
  readU64,
  SIG_DESCRIPTOR,
  SIG_LOCAL,
  U32_MAX,
  ZIP64_EXTRA_ID,
} from './format.js';
import { displayName } from './names.js';
import type { ArchiveStructure, CentralRecord } from './structure.js';

/**
 * Receives every byte of the scanned range exactly once, in order (hashing). The chunk's memory
 * is reused for the next window: a sink must be done with it when it returns.
 */
export type ChunkSink = (chunk: Buffer) => void | Promise<void>;

/** Where an entry's bytes lie, as its local header says. */
export interface EntrySpan {
  readonly record: CentralRecord;
  readonly dataStart: number;
  /** End of the data plus its data descriptor. */
  readonly end: number;
}

export interface ScanResult {
  /** Bytes before the first local header. */
  readonly preambleBytes: number;
  /** Where META-INF/MANIFEST.MF lies, when there is one (the only span kept: memory stays flat). */
  readonly manifest: EntrySpan | undefined;
  /** Entries too large to check in memory on the way; the caller streams them (verifyEntryData). */
  readonly unverified: readonly EntrySpan[];
}

/** Entries up to this compressed size are inflated in memory during the scan. */
const IN_SCAN_LIMIT = 4 * 1024 * 1024;

const WINDOW = 4 * 1024 * 1024;

/**
 * Reads [0, limit) once, front to back, in large windows: every local header is checked against
 * its central record on the way, and every chunk goes to the sink. Small random reads would cost a
 * syscall per entry; one pass costs one per megabyte.
 */
class ForwardReader {
  private buf: Buffer = Buffer.alloc(0);
  /** The previous window's memory, reused for the next one: fewer large allocations, less GC. */
  private spare: Buffer | undefined;
  private backing: Buffer | undefined;
  private bufStart = 0;
  private readPos = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly limit: number,
    private readonly sink: ChunkSink | undefined,
  ) {}

  /** Whether the window holds [offset, offset + length) (clipped at the limit). */
  has(offset: number, length: number): boolean {
    return (
      offset >= this.bufStart && this.bufStart + this.buf.length >= Math.min(offset + length, this.limit)
    );
  }

  /** The window and where `offset` sits in it: parsers read in place instead of slicing. */
  get window(): Buffer {
    return this.buf;
  }

  index(offset: number): number {
    return offset - this.bufStart;
  }

  /** The bytes [offset, offset + length) when the window already holds them; no await on the hot path. */
  peek(offset: number, length: number): Buffer | undefined {
    const wanted = Math.min(offset + length, this.limit);
    if (offset < this.bufStart || this.bufStart + this.buf.length < wanted) return undefined;
    const from = offset - this.bufStart;
    return this.buf.subarray(from, from + (wanted - offset));
  }

  /** Returns the bytes [offset, offset + length), clipped at the limit. Offsets only move forward. */
  async bytes(offset: number, length: number): Promise<Buffer> {
    if (offset < this.bufStart)
      throw new Error(`ForwardReader: offset ${offset} is behind the window at ${this.bufStart}`);
    const wanted = Math.min(offset + length, this.limit);
    while (this.bufStart + this.buf.length < wanted) await this.readMore(offset);
    const from = offset - this.bufStart;
    return this.buf.subarray(from, from + (wanted - offset));
  }

  /** Reads and emits everything up to the limit. */
  async drain(): Promise<void> {
    while (this.readPos < this.limit) await this.readMore(this.limit);
  }

  /**
   * Reads the next window into one fresh buffer, with the still-needed end of the current window
   * copied in front of it: one allocation per window, no concatenation of whole windows.
   */
  private async readMore(keepFrom: number): Promise<void> {
    const length = Math.min(WINDOW, this.limit - this.readPos);
    const bufEnd = this.bufStart + this.buf.length;
    const keepStart = keepFrom >= bufEnd ? bufEnd : Math.max(keepFrom, this.bufStart);
    const carry = this.buf.subarray(keepStart - this.bufStart);
    const need = carry.length + length;
    const backing =
      this.spare !== undefined && this.spare.length >= need
        ? this.spare
        : Buffer.allocUnsafe(Math.max(need, 2 * WINDOW));
    const next = backing.subarray(0, need);
    carry.copy(next, 0);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(next, carry.length + done, length - done, this.readPos + done);
      if (bytesRead === 0)
        throw new ArchiveError(`archive is truncated: expected data at offset ${this.readPos + done}`);
      done += bytesRead;
    }
    if (this.sink !== undefined) await this.sink(next.subarray(carry.length));
    this.spare = this.backing;
    this.backing = backing;
    this.buf = next;
    this.bufStart = keepStart;
    this.readPos += length;
  }
}

/**
 * Checks that the entries tile [preamble, central directory) exactly: each local header where its
 * central record says and agreeing with it, no two entries sharing bytes, nothing unaccounted for.
 */
export async function scanEntries(
  fh: FileHandle,
  structure: ArchiveStructure,
  options: { sink?: ChunkSink; maxPreambleBytes: number; verifyData?: boolean },
): Promise<ScanResult> {
  const limit = structure.centralDirectoryOffset;
  const ordered = inFileOrder(structure.records);
  const reader = new ForwardReader(fh, limit, options.sink);
  let manifest: EntrySpan | undefined;
  const unverified: EntrySpan[] = [];
  const first = ordered[0] as CentralRecord;
  if (first.localOffset > options.maxPreambleBytes) {
    throw new ArchiveError(
      `${first.localOffset} bytes precede the first entry, more than the limit of ${options.maxPreambleBytes}`,
    );
  }
  let expected = first.localOffset;
  let previous: CentralRecord | undefined;
  for (const record of ordered) {
    if (record.localOffset !== expected) {
      throw new ArchiveError(spacingProblem(previous, record, expected));
    }
    const inScan = options.verifyData === true && record.compressedSize <= IN_SCAN_LIMIT;
    const span = await readSpan(reader, record, limit, inScan);
    if (manifest === undefined && isManifest(record)) manifest = span;
    if (options.verifyData === true && !inScan) unverified.push(span);
    expected = span.end;
    previous = record;
  }
  if (expected !== limit) {
    throw new ArchiveError(
      `${limit - expected} unaccounted bytes between the last entry ${displayName((previous as CentralRecord).name)} and the central directory`,
    );
  }
  await reader.drain();
  return {
    preambleBytes: first.localOffset,
    manifest,
    unverified,
  };
}

function isManifest(record: CentralRecord): boolean {
  return record.nameRaw.length === 20 && record.name.toUpperCase() === 'META-INF/MANIFEST.MF';
}

/** Records sorted by local offset; most writers already store them that way, so check first. */
function inFileOrder(records: readonly CentralRecord[]): readonly CentralRecord[] {
  for (let i = 1; i < records.length; i++) {
    if ((records[i] as CentralRecord).localOffset < (records[i - 1] as CentralRecord).localOffset) {
      return [...records].sort((a, b) => a.localOffset - b.localOffset || a.index - b.index);
    }
  }
  return records;
}

function spacingProblem(
  previous: CentralRecord | undefined,
  record: CentralRecord,
  expected: number,
): string {
  const prev = previous === undefined ? 'the start' : `entry ${displayName(previous.name)}`;
  if (record.localOffset < expected) {
    return `entries overlap: ${displayName(record.name)} starts at offset ${record.localOffset}, inside ${prev} (which ends at ${expected})`;
  }
  return `${record.localOffset - expected} unaccounted bytes between ${prev} and entry ${displayName(record.name)}`;
}

/**
 * With `verify`, the data is checked before the descriptor is read: the reader only moves forward.
 * Bytes already in the window are taken without an await; messages are built only on failure.
 */
async function readSpan(
  reader: ForwardReader,
  record: CentralRecord,
  limit: number,
  verify: boolean,
): Promise<EntrySpan> {
  const offset = record.localOffset;
  if (offset + LOCAL_HEADER_SIZE > limit)
    throw new ArchiveError(`${where(record)}: local header runs into the central directory`);
  if (!reader.has(offset, LOCAL_HEADER_SIZE)) await reader.bytes(offset, LOCAL_HEADER_SIZE);
  let window = reader.window;
  let at = reader.index(offset);
  if (window.readUInt32LE(at) !== SIG_LOCAL)
    throw new ArchiveError(`${where(record)}: no local header at offset ${offset}`);
  const headerLength = LOCAL_HEADER_SIZE + window.readUInt16LE(at + 26) + window.readUInt16LE(at + 28);
  if (offset + headerLength > limit)
    throw new ArchiveError(`${where(record)}: local header runs into the central directory`);
  if (!reader.has(offset, headerLength)) {
    await reader.bytes(offset, headerLength);
    window = reader.window;
    at = reader.index(offset);
  }
  const local = compareLocalHeader(window, at, record);
  const dataStart = offset + headerLength;
  const dataEnd = dataStart + record.compressedSize;
  if (dataEnd > limit) {
    throw new ArchiveError(
      `${where(record)}: its ${record.compressedSize} bytes of data run into the central directory`,
    );
  }
  if (verify)
    verifyInMemory(
      record,
      reader.peek(dataStart, record.compressedSize) ?? (await reader.bytes(dataStart, record.compressedSize)),
    );
  let end = dataEnd;
  if ((record.flags & FLAG_DESCRIPTOR) !== 0) {
    if (!reader.has(dataEnd, 24)) await reader.bytes(dataEnd, 24);
    const start = reader.index(dataEnd);
    end += descriptorLength(reader.window, start, Math.min(24, limit - dataEnd), record, local.zip64);
  }
  return { record, dataStart, end };
}

function where(record: CentralRecord): string {
  return `entry ${displayName(record.name)}`;
}

/** Compares the local header at `window[at]` with its central record, reading in place. */
function compareLocalHeader(window: Buffer, at: number, record: CentralRecord): { zip64: boolean } {
  const flags = window.readUInt16LE(at + 6);
  const method = window.readUInt16LE(at + 8);
  const nameLength = window.readUInt16LE(at + 26);
  const nameStart = at + LOCAL_HEADER_SIZE;
  const nameEnd = nameStart + nameLength;
  if (
    nameLength !== record.nameRaw.length ||
    window.compare(record.nameRaw, 0, nameLength, nameStart, nameEnd) !== 0
  ) {
    const name = window.toString('utf8', nameStart, nameEnd);
    throw new ArchiveError(`${where(record)}: local header names it ${displayName(name)}`);
  }
  if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0)
    throw new ArchiveError(`${where(record)} is encrypted`);
  if ((flags & FLAG_DESCRIPTOR) !== (record.flags & FLAG_DESCRIPTOR)) {
    throw new ArchiveError(
      `${where(record)}: local header and central record disagree on the data descriptor flag`,
    );
  }
  if (method !== record.method) {
    throw new ArchiveError(
      `${where(record)}: local header says compression method ${method}, central record says ${record.method}`,
    );
  }
  let compressed = window.readUInt32LE(at + 18);
  let uncompressed = window.readUInt32LE(at + 22);
  let zip64 = false;
  if (compressed === U32_MAX || uncompressed === U32_MAX) {
    const extra = window.subarray(nameEnd, nameEnd + window.readUInt16LE(at + 28));
    const parsed = parseExtraFields(extra);
    if ('problem' in parsed) throw new ArchiveError(`${where(record)}: local ${parsed.problem}`);
    const field = parsed.fields.get(ZIP64_EXTRA_ID);
    if (field === undefined || field.length < 16)
      throw new ArchiveError(`${where(record)}: local header has saturated sizes but no zip64 extra field`);
    uncompressed = readU64(field, 0) ?? -1;
    compressed = readU64(field, 8) ?? -1;
    zip64 = true;
  }
  const crc = window.readUInt32LE(at + 14);
  const deferred = (flags & FLAG_DESCRIPTOR) !== 0;
  const agrees = (local: number, central: number) => local === central || (deferred && local === 0);
  if (!agrees(crc, record.crc32))
    throw new ArchiveError(
      `${where(record)}: local header CRC-32 ${hex(crc)} differs from the central record's ${hex(record.crc32)}`,
    );
  if (!agrees(compressed, record.compressedSize)) {
    throw new ArchiveError(
      `${where(record)}: local header says ${compressed} compressed bytes, central record says ${record.compressedSize}`,
    );
  }
  if (!agrees(uncompressed, record.uncompressedSize)) {
    throw new ArchiveError(
      `${where(record)}: local header says ${uncompressed} uncompressed bytes, central record says ${record.uncompressedSize}`,
    );
  }
  return { zip64: zip64 || record.zip64 };
}

/** Length of the data descriptor after an entry; its values must match the central record. */
function descriptorLength(
  window: Buffer,
  at: number,
  available: number,
  record: CentralRecord,
  zip64: boolean,
): number {
  const sizeWidth = zip64 ? 8 : 4;
  const signed = available >= 4 && window.readUInt32LE(at) === SIG_DESCRIPTOR;
  for (const skip of signed ? [4, 0] : [0]) {
    const length = skip + 4 + 2 * sizeWidth;
    if (available < length) continue;
    const start = at + skip;
    const crc = window.readUInt32LE(start);
    const compressed = zip64 ? readU64(window, start + 4) : window.readUInt32LE(start + 4);
    const uncompressed = zip64 ? readU64(window, start + 12) : window.readUInt32LE(start + 8);
    if (
      crc === record.crc32 &&
      compressed === record.compressedSize &&
      uncompressed === record.uncompressedSize
    )
      return length;
  }
  throw new ArchiveError(`${where(record)}: data descriptor is missing or disagrees with the central record`);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Inflates a small entry with its declared size as a hard cap, then checks the count and CRC. */
function verifyInMemory(record: CentralRecord, compressed: Buffer): void {
  let data = compressed;
  if (record.method === METHOD_DEFLATED) {
    try {
      data = inflateRawSync(compressed, { maxOutputLength: Math.max(1, record.uncompressedSize) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE')
        throw new ArchiveError(
          `${where(record)}: inflates past its declared size of ${record.uncompressedSize} bytes`,
        );
      throw new ArchiveError(`${where(record)}: compressed data is corrupt (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
  // maxOutputLength is at least 1, so an entry declared empty can inflate to one byte without an error.
  if (data.length > record.uncompressedSize) {
    throw new ArchiveError(
      `${where(record)}: inflates past its declared size of ${record.uncompressedSize} bytes`,
    );
  }
  if (data.length !== record.uncompressedSize) {
    throw new ArchiveError(
      `${where(record)}: expected ${record.uncompressedSize} bytes, got only ${data.length}`,
    );
  }
  if (crc32(data) !== record.crc32)
    throw new ArchiveError(`${where(record)}: CRC-32 does not match its data`);
}
