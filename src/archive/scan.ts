import { crc32, inflateRawSync } from 'node:zlib';
import { ArchiveError } from '../common/errors.js';
import type { CentralRecord, DirectoryEntries } from './directory.js';
import {
  CENTRAL_HEADER_SIZE,
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
  u16,
  u32,
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
const DESCRIPTOR_MAX = 24;

/**
 * Checks that the entries tile [preamble, central directory) exactly: each local header where its
 * central record says and agreeing with it, no two entries sharing bytes, nothing unaccounted for.
 * One forward pass over `stream`: entries that lie in the stream's current window are checked in a
 * synchronous loop, the one that crosses into the next window through awaited views.
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
  while (scan.next < scan.count) {
    scan.checkInWindow(stream.buffer, stream.bufferStart, stream.bufferEnd);
    if (scan.next < scan.count) await scan.checkNext(stream);
  }
  return scan.result();
}

/** The scan's position and findings, carried from one window to the next. */
class EntryScan {
  readonly count: number;
  readonly preambleBytes: number;
  /** Position in file order of the next entry to check; `expected` is where it must start. */
  next = 0;
  private expected: number;
  private manifest: EntrySpan | undefined;
  private readonly unverified: EntrySpan[] = [];
  private readonly entries: DirectoryEntries;
  private readonly order: readonly number[] | null;
  private readonly limit: number;

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

  /**
   * Checks entries for as long as everything each one needs (header, data when verifying,
   * descriptor) lies in `buf`, which holds file bytes [start, end). No await, no allocation.
   */
  checkInWindow(buf: Buffer, start: number, end: number): void {
    const { entries, limit, verifyData, order } = this;
    const { offsets, compressed } = entries;
    let k = this.next;
    let expected = this.expected;
    for (; k < this.count; k++) {
      const i = order === null ? k : (order[k] as number);
      const offset = offsets[i] as number;
      // startOf throws with the right message; the common case costs two comparisons.
      if (offset !== expected || offset + LOCAL_HEADER_SIZE > limit) this.startOf(k, i, expected);
      if (offset < start || offset + LOCAL_HEADER_SIZE > end) break;
      const at = offset - start;
      const dataStart = offset + headerLength(entries, i, buf, at, offset, limit);
      if (dataStart > end) break;
      const zip64 = compareLocalHeader(entries, i, buf, at);
      const size = compressed[i] as number;
      const dataEnd = dataStart + size;
      if (dataEnd > limit) throw new ArchiveError(dataProblem(entries, i));
      const inScan = verifyData && size <= IN_SCAN_LIMIT;
      if (inScan) {
        if (dataEnd > end) break;
        verifyInMemory(entries, i, buf.subarray(dataStart - start, dataEnd - start));
      }
      let entryEnd = dataEnd;
      // The local flag, which compareLocalHeader found equal to the central one.
      if ((u16(buf, at + 6) & FLAG_DESCRIPTOR) !== 0) {
        const available = Math.min(DESCRIPTOR_MAX, limit - dataEnd);
        if (dataEnd + available > end) break;
        entryEnd += descriptorLength(entries, i, buf, dataEnd - start, available, zip64);
      }
      if (this.manifest === undefined || verifyData) this.note(i, dataStart, entryEnd, inScan);
      expected = entryEnd;
    }
    this.next = k;
    this.expected = expected;
  }

  /** Checks the next entry through views: the slow path, for an entry that crosses a window. */
  async checkNext(stream: PrefixStream): Promise<void> {
    const { entries, limit } = this;
    const i = this.indexAt(this.next);
    const offset = this.startOf(this.next, i, this.expected);
    let view = await stream.view(offset, LOCAL_HEADER_SIZE);
    const dataStart = offset + headerLength(entries, i, view.buf, view.at, offset, limit);
    view = await stream.view(offset, dataStart - offset);
    const zip64 = compareLocalHeader(entries, i, view.buf, view.at);
    const dataEnd = dataStart + entries.compressedSize(i);
    if (dataEnd > limit) throw new ArchiveError(dataProblem(entries, i));
    const inScan = this.verifyData && entries.compressedSize(i) <= IN_SCAN_LIMIT;
    if (inScan) {
      view = await stream.view(dataStart, dataEnd - dataStart);
      verifyInMemory(entries, i, view.buf.subarray(view.at, view.at + dataEnd - dataStart));
    }
    let entryEnd = dataEnd;
    if ((entries.flags(i) & FLAG_DESCRIPTOR) !== 0) {
      const available = Math.min(DESCRIPTOR_MAX, limit - dataEnd);
      view = await stream.view(dataEnd, available);
      entryEnd += descriptorLength(entries, i, view.buf, view.at, available, zip64);
    }
    this.note(i, dataStart, entryEnd, inScan);
    this.next++;
    this.expected = entryEnd;
  }

  private indexAt(k: number): number {
    return this.order === null ? k : (this.order[k] as number);
  }

  /** Entry i's local offset, which must be where the previous entry ended. */
  private startOf(k: number, i: number, expected: number): number {
    const offset = this.entries.localOffset(i);
    if (offset !== expected) {
      const previous = k === 0 ? -1 : this.indexAt(k - 1);
      throw new ArchiveError(spacingProblem(this.entries, previous, i, expected));
    }
    if (offset + LOCAL_HEADER_SIZE > this.limit)
      throw new ArchiveError(`${where(this.entries, i)}: local header runs into the central directory`);
    return offset;
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
  const length = LOCAL_HEADER_SIZE + u16(buf, at + 26) + u16(buf, at + 28);
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
  const nameLength = u16(buf, at + 26);
  const nameAt = at + LOCAL_HEADER_SIZE;
  if (
    nameLength !== u16(cd, record + 28) ||
    !sameBytes(buf, nameAt, cd, record + CENTRAL_HEADER_SIZE, nameLength)
  ) {
    const name = buf.toString('utf8', nameAt, nameAt + nameLength);
    throw new ArchiveError(`${where(entries, i)}: local header names it ${displayName(name)}`);
  }
  const flags = u16(buf, at + 6);
  if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0)
    throw new ArchiveError(`${where(entries, i)} is encrypted`);
  if ((flags & FLAG_DESCRIPTOR) !== (u16(cd, record + 8) & FLAG_DESCRIPTOR)) {
    throw new ArchiveError(
      `${where(entries, i)}: local header and central record disagree on the data descriptor flag`,
    );
  }
  const method = u16(buf, at + 8);
  if (method !== u16(cd, record + 10)) {
    throw new ArchiveError(
      `${where(entries, i)}: local header says compression method ${method}, central record says ${entries.method(i)}`,
    );
  }
  let compressed = u32(buf, at + 18);
  let uncompressed = u32(buf, at + 22);
  let zip64 = false;
  if (compressed === U32_MAX || uncompressed === U32_MAX) {
    const extraAt = nameAt + nameLength;
    const parsed = parseExtraFields(buf.subarray(extraAt, extraAt + u16(buf, at + 28)));
    if ('problem' in parsed) throw new ArchiveError(`${where(entries, i)}: local ${parsed.problem}`);
    const field = parsed.fields.get(ZIP64_EXTRA_ID);
    if (field === undefined || field.length < 16)
      throw new ArchiveError(
        `${where(entries, i)}: local header has saturated sizes but no zip64 extra field`,
      );
    uncompressed = readU64(field, 0) ?? -1;
    compressed = readU64(field, 8) ?? -1;
    zip64 = true;
  }
  const deferred = (flags & FLAG_DESCRIPTOR) !== 0;
  const crc = u32(buf, at + 14);
  const centralCrc = u32(cd, record + 16);
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
  const bare = 4 + 2 * (zip64 ? 8 : 4);
  if (
    available >= 4 + bare &&
    u32(buf, at) === SIG_DESCRIPTOR &&
    descriptorMatches(entries, i, buf, at + 4, zip64)
  )
    return 4 + bare;
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
  const compressed = zip64 ? readU64(buf, at + 4) : u32(buf, at + 4);
  const uncompressed = zip64 ? readU64(buf, at + 12) : u32(buf, at + 8);
  return (
    u32(buf, at) === entries.crc32(i) &&
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
