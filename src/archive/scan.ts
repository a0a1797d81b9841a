import { crc32, inflateRawSync } from 'node:zlib';
import { ArchiveError } from '../common/errors.js';
import type { CentralRecord, DirectoryEntries } from './directory.js';
import {
  CENTRAL,
  CENTRAL_HEADER_SIZE,
  DATA_DESCRIPTOR,
  DESCRIPTOR_SIZE,
  FLAG_DESCRIPTOR,
  FLAG_ENCRYPTED,
  FLAG_STRONG_ENCRYPTION,
  LOCAL,
  LOCAL_HEADER_SIZE,
  METHOD_DEFLATED,
  parseExtraFields,
  readU64,
  SIG_DESCRIPTOR,
  SIG_LOCAL,
  SIGNATURE_SIZE,
  U32_MAX,
  u16,
  u32,
  ZIP64_DESCRIPTOR_SIZE,
  ZIP64_EXTRA,
  ZIP64_EXTRA_ID,
} from './format.js';
import { keepLayout } from './keep-layout.js';
import { displayName } from './names.js';
import type { PrefixStream } from './prefix-stream.js';
import type { ArchiveStructure } from './structure.js';

export type { ChunkSink } from './prefix-stream.js';

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
const DESCRIPTOR_MAX = SIGNATURE_SIZE + ZIP64_DESCRIPTOR_SIZE;

/**
 * Checks that the entries tile [preamble, central directory) exactly: each local header where its
 * central record says and agreeing with it, no two entries sharing bytes, nothing unaccounted for.
 * One forward pass over `stream`. Each entry is checked in steps (header, name and extra, data,
 * descriptor), each given the bytes it needs: in place when the stream's current window holds
 * them, else through an awaited view (an entry that crosses into the next window).
 */
export async function scanEntries(
  stream: PrefixStream,
  structure: ArchiveStructure,
  options: { maxPreambleBytes: number; verifyData?: boolean },
): Promise<ScanResult> {
  const scan = new EntryScan(structure, options.verifyData === true);
  if (scan.preambleBytes > options.maxPreambleBytes) {
    throw new ArchiveError(
      `${scan.preambleBytes} bytes precede the first entry, more than the limit of ${options.maxPreambleBytes}`,
    );
  }
  scan.begin();
  while (!scan.done) {
    const from = scan.needFrom;
    const length = scan.needLength;
    const start = stream.bufferStart;
    if (from >= start && from + length <= stream.bufferEnd) {
      scan.step(stream.buffer, from - start);
    } else {
      const view = await stream.view(from, length);
      scan.step(view.buf, view.at);
    }
  }
  return scan.result();
}

/** What the current entry's next step checks, in file order. */
const STEP_HEADER = 0;
const STEP_NAME_AND_EXTRA = 1;
const STEP_DATA = 2;
const STEP_DESCRIPTOR = 3;

/** The scan's position and findings: the entry being checked, its step, and the bytes that step needs. */
class EntryScan {
  readonly count: number;
  readonly preambleBytes: number;
  done = false;
  /** The file bytes [needFrom, needFrom + needLength) the next step reads. */
  needFrom = 0;
  needLength = 0;
  /** Position in file order of the entry being checked; `expected` is where it must start. */
  private next = 0;
  private expected: number;
  private manifest: EntrySpan | undefined;
  private readonly unverified: EntrySpan[] = [];
  private readonly entries: DirectoryEntries;
  private readonly order: readonly number[] | null;
  private readonly limit: number;
  /** The entry being checked: its index, step, and what its earlier steps found. */
  private i = 0;
  private stage = STEP_HEADER;
  private offset = 0;
  private dataStart = 0;
  private dataEnd = 0;
  private zip64 = false;
  private inScan = false;

  constructor(
    structure: ArchiveStructure,
    private readonly verifyData: boolean,
  ) {
    this.entries = structure.entries;
    this.count = this.entries.count;
    this.order = fileOrder(this.entries);
    this.limit = structure.centralDirectoryOffset;
    this.preambleBytes = this.entries.localOffset(this.indexAt(0));
    this.expected = this.preambleBytes;
    keepLayout(this);
  }

  result(): ScanResult {
    if (this.expected !== this.limit) {
      const last = displayName(this.entries.name(this.indexAt(this.count - 1)));
      throw new ArchiveError(
        `${this.limit - this.expected} unaccounted bytes between the last entry ${last} and the central directory`,
      );
    }
    return { preambleBytes: this.preambleBytes, manifest: this.manifest, unverified: this.unverified };
  }

  /** Runs the current step on the bytes it asked for, which start at buf[at]. */
  step(buf: Buffer, at: number): void {
    const { entries, i } = this;
    switch (this.stage) {
      case STEP_HEADER: {
        this.dataStart = this.offset + headerLength(entries, i, buf, at, this.offset, this.limit);
        this.need(STEP_NAME_AND_EXTRA, this.offset, this.dataStart - this.offset);
        return;
      }
      case STEP_NAME_AND_EXTRA: {
        this.zip64 = compareLocalHeader(entries, i, buf, at);
        const size = entries.compressed[i] as number;
        this.dataEnd = this.dataStart + size;
        if (this.dataEnd > this.limit) throw new ArchiveError(dataProblem(entries, i));
        this.inScan = this.verifyData && size <= IN_SCAN_LIMIT;
        if (this.inScan) this.need(STEP_DATA, this.dataStart, size);
        else this.afterData();
        return;
      }
      case STEP_DATA:
        verifyInMemory(entries, i, buf.subarray(at, at + this.needLength));
        this.afterData();
        return;
      default:
        this.finish(this.dataEnd + descriptorLength(entries, i, buf, at, this.needLength, this.zip64));
    }
  }

  /** Starts the entry at position `next` in file order: its local header must be where the last one ended. */
  begin(): void {
    const k = this.next;
    const i = this.indexAt(k);
    const offset = this.entries.localOffset(i);
    if (offset !== this.expected) {
      const previous = k === 0 ? -1 : this.indexAt(k - 1);
      throw new ArchiveError(spacingProblem(this.entries, previous, i, this.expected));
    }
    if (offset + LOCAL_HEADER_SIZE > this.limit)
      throw new ArchiveError(`${where(this.entries, i)}: local header runs into the central directory`);
    this.i = i;
    this.offset = offset;
    this.need(STEP_HEADER, offset, LOCAL_HEADER_SIZE);
  }

  private afterData(): void {
    // The central flag, which compareLocalHeader found equal to the local one.
    if ((this.entries.flags(this.i) & FLAG_DESCRIPTOR) === 0) this.finish(this.dataEnd);
    else this.need(STEP_DESCRIPTOR, this.dataEnd, Math.min(DESCRIPTOR_MAX, this.limit - this.dataEnd));
  }

  private finish(entryEnd: number): void {
    this.note(this.i, this.dataStart, entryEnd, this.inScan);
    this.expected = entryEnd;
    this.next++;
    if (this.next < this.count) this.begin();
    else this.done = true;
  }

  private need(stage: number, from: number, length: number): void {
    this.stage = stage;
    this.needFrom = from;
    this.needLength = length;
  }

  private indexAt(k: number): number {
    return this.order === null ? k : (this.order[k] as number);
  }

  /** Keeps the spans needed later: the manifest's, and those of entries too large to check here. */
  private note(i: number, dataStart: number, end: number, verified: boolean): void {
    if (this.manifest === undefined && isManifest(this.entries, i))
      this.manifest = { record: this.entries.record(i), dataStart, end };
    if (this.verifyData && !verified)
      this.unverified.push({ record: this.entries.record(i), dataStart, end });
  }
}

/** The local header's length, from its fixed part at buf[at]; it must end before the directory. */
function headerLength(
  entries: DirectoryEntries,
  i: number,
  buf: Buffer,
  at: number,
  offset: number,
  limit: number,
): number {
  if (u32(buf, at) !== SIG_LOCAL)
    throw new ArchiveError(`${where(entries, i)}: no local header at offset ${offset}`);
  const length =
    LOCAL_HEADER_SIZE + u16(buf, at + LOCAL.fileNameLength) + u16(buf, at + LOCAL.extraFieldLength);
  if (offset + length > limit)
    throw new ArchiveError(`${where(entries, i)}: local header runs into the central directory`);
  return length;
}

function dataProblem(entries: DirectoryEntries, i: number): string {
  return `${where(entries, i)}: its ${entries.compressedSize(i)} bytes of data run into the central directory`;
}

const MANIFEST = Buffer.from('META-INF/MANIFEST.MF');

/** META-INF/MANIFEST.MF in any ASCII case (no other character upper-cases into a 20-byte match). */
function isManifest(entries: DirectoryEntries, i: number): boolean {
  if (entries.nameLength(i) !== MANIFEST.length) return false;
  const cd = entries.directory;
  const start = entries.nameStart(i);
  for (let k = 0; k < MANIFEST.length; k++) {
    const byte = cd[start + k] as number;
    const upper = byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte;
    if (upper !== MANIFEST[k]) return false;
  }
  return true;
}

/** Entry indexes sorted by local offset, or null when the directory is in file order already (most are). */
function fileOrder(entries: DirectoryEntries): readonly number[] | null {
  for (let i = 1; i < entries.count; i++) {
    if (entries.localOffset(i) < entries.localOffset(i - 1)) {
      return Array.from({ length: entries.count }, (_, k) => k).sort(
        (a, b) => entries.localOffset(a) - entries.localOffset(b) || a - b,
      );
    }
  }
  return null;
}

function spacingProblem(entries: DirectoryEntries, previous: number, i: number, expected: number): string {
  const prev = previous === -1 ? 'the start' : where(entries, previous);
  const offset = entries.localOffset(i);
  const name = displayName(entries.name(i));
  if (offset < expected) {
    return `entries overlap: ${name} starts at offset ${offset}, inside ${prev} (which ends at ${expected})`;
  }
  return `${offset - expected} unaccounted bytes between ${prev} and entry ${name}`;
}

function where(entries: DirectoryEntries, i: number): string {
  return `entry ${displayName(entries.name(i))}`;
}

/**
 * Compares the whole local header at buf[at] with entry i's central record; returns whether its
 * sizes are zip64. Messages are built only on failure.
 */
function compareLocalHeader(entries: DirectoryEntries, i: number, buf: Buffer, at: number): boolean {
  const cd = entries.directory;
  const record = entries.starts[i] as number;
  const nameLength = u16(buf, at + LOCAL.fileNameLength);
  const nameAt = at + LOCAL_HEADER_SIZE;
  if (
    nameLength !== u16(cd, record + CENTRAL.fileNameLength) ||
    !sameBytes(buf, nameAt, cd, record + CENTRAL_HEADER_SIZE, nameLength)
  ) {
    const name = buf.toString('utf8', nameAt, nameAt + nameLength);
    throw new ArchiveError(`${where(entries, i)}: local header names it ${displayName(name)}`);
  }
  const flags = u16(buf, at + LOCAL.generalPurposeBitFlag);
  if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0)
    throw new ArchiveError(`${where(entries, i)} is encrypted`);
  if ((flags & FLAG_DESCRIPTOR) !== (u16(cd, record + CENTRAL.generalPurposeBitFlag) & FLAG_DESCRIPTOR)) {
    throw new ArchiveError(
      `${where(entries, i)}: local header and central record disagree on the data descriptor flag`,
    );
  }
  const method = u16(buf, at + LOCAL.compressionMethod);
  if (method !== u16(cd, record + CENTRAL.compressionMethod)) {
    throw new ArchiveError(
      `${where(entries, i)}: local header says compression method ${method}, central record says ${entries.method(i)}`,
    );
  }
  let compressed = u32(buf, at + LOCAL.compressedSize);
  let uncompressed = u32(buf, at + LOCAL.uncompressedSize);
  let zip64 = false;
  if (compressed === U32_MAX || uncompressed === U32_MAX) {
    const extraAt = nameAt + nameLength;
    const parsed = parseExtraFields(buf.subarray(extraAt, extraAt + u16(buf, at + LOCAL.extraFieldLength)));
    if ('problem' in parsed) throw new ArchiveError(`${where(entries, i)}: local ${parsed.problem}`);
    const field = parsed.fields.get(ZIP64_EXTRA_ID);
    if (field === undefined || field.length < ZIP64_EXTRA.compressedSize + 8)
      throw new ArchiveError(
        `${where(entries, i)}: local header has saturated sizes but no zip64 extra field`,
      );
    uncompressed = readU64(field, ZIP64_EXTRA.uncompressedSize) ?? -1;
    compressed = readU64(field, ZIP64_EXTRA.compressedSize) ?? -1;
    zip64 = true;
  }
  const deferred = (flags & FLAG_DESCRIPTOR) !== 0;
  const crc = u32(buf, at + LOCAL.crc32);
  const centralCrc = u32(cd, record + CENTRAL.crc32);
  if (crc !== centralCrc && !(deferred && crc === 0))
    throw new ArchiveError(
      `${where(entries, i)}: local header CRC-32 ${hex(crc)} differs from the central record's ${hex(centralCrc)}`,
    );
  const centralCompressed = entries.compressed[i] as number;
  if (compressed !== centralCompressed && !(deferred && compressed === 0)) {
    throw new ArchiveError(
      `${where(entries, i)}: local header says ${compressed} compressed bytes, central record says ${centralCompressed}`,
    );
  }
  const centralUncompressed = entries.uncompressed[i] as number;
  if (uncompressed !== centralUncompressed && !(deferred && uncompressed === 0)) {
    throw new ArchiveError(
      `${where(entries, i)}: local header says ${uncompressed} uncompressed bytes, central record says ${centralUncompressed}`,
    );
  }
  return zip64 || entries.zip64(i);
}

function sameBytes(a: Buffer, aStart: number, b: Buffer, bStart: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (a[aStart + k] !== b[bStart + k]) return false;
  return true;
}

/** Length of the data descriptor after an entry, signed or not; its values must match the central record. */
function descriptorLength(
  entries: DirectoryEntries,
  i: number,
  buf: Buffer,
  at: number,
  available: number,
  zip64: boolean,
): number {
  const bare = zip64 ? ZIP64_DESCRIPTOR_SIZE : DESCRIPTOR_SIZE;
  if (
    available >= SIGNATURE_SIZE + bare &&
    u32(buf, at) === SIG_DESCRIPTOR &&
    descriptorMatches(entries, i, buf, at + SIGNATURE_SIZE, zip64)
  )
    return SIGNATURE_SIZE + bare;
  if (available >= bare && descriptorMatches(entries, i, buf, at, zip64)) return bare;
  throw new ArchiveError(
    `${where(entries, i)}: data descriptor is missing or disagrees with the central record`,
  );
}

function descriptorMatches(
  entries: DirectoryEntries,
  i: number,
  buf: Buffer,
  at: number,
  zip64: boolean,
): boolean {
  const compressed = zip64
    ? readU64(buf, at + DATA_DESCRIPTOR.compressedSize)
    : u32(buf, at + DATA_DESCRIPTOR.compressedSize);
  const uncompressed = zip64
    ? readU64(buf, at + DATA_DESCRIPTOR.zip64UncompressedSize)
    : u32(buf, at + DATA_DESCRIPTOR.uncompressedSize);
  return (
    u32(buf, at + DATA_DESCRIPTOR.crc32) === entries.crc32(i) &&
    compressed === entries.compressedSize(i) &&
    uncompressed === entries.uncompressedSize(i)
  );
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Inflates a small entry with its declared size as a hard cap, then checks the count and CRC. */
function verifyInMemory(entries: DirectoryEntries, i: number, compressed: Buffer): void {
  const declared = entries.uncompressedSize(i);
  let data = compressed;
  if (entries.method(i) === METHOD_DEFLATED) {
    try {
      data = inflateRawSync(compressed, { maxOutputLength: Math.max(1, declared) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE')
        throw new ArchiveError(`${where(entries, i)}: inflates past its declared size of ${declared} bytes`);
      throw new ArchiveError(
        `${where(entries, i)}: compressed data is corrupt (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
  // maxOutputLength is at least 1, so an entry declared empty can inflate to one byte without an error.
  if (data.length > declared)
    throw new ArchiveError(`${where(entries, i)}: inflates past its declared size of ${declared} bytes`);
  if (data.length !== declared)
    throw new ArchiveError(`${where(entries, i)}: expected ${declared} bytes, got only ${data.length}`);
  if (crc32(data) !== entries.crc32(i))
    throw new ArchiveError(`${where(entries, i)}: CRC-32 does not match its data`);
}
