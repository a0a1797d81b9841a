import { crc32 } from 'node:zlib';
import { UsageError } from '../common/errors.js';
import { entryNameProblem } from '../common/validate.js';
import {
  CENTRAL,
  CENTRAL_HEADER_SIZE,
  EOCD,
  EOCD_SIZE,
  EXTRA_FIELD,
  FLAG_UTF8,
  LOCAL,
  LOCAL_HEADER_SIZE,
  METHOD_STORED,
  SIG_CENTRAL,
  SIG_EOCD,
  SIG_LOCAL,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
  U16_MAX,
  U32_MAX,
  writeU64,
  ZIP64_EOCD,
  ZIP64_EOCD_SIZE,
  ZIP64_EXTRA_ID,
  ZIP64_LOCATOR,
  ZIP64_LOCATOR_SIZE,
} from './format.js';
import type { ArchiveStructure } from './structure.js';

/** What the splice needs to know about a base: its directory and where it starts. */
export type SpliceBase = Pick<
  ArchiveStructure,
  'centralDirectoryOffset' | 'centralDirectory' | 'entries' | 'comment' | 'zip64'
>;

export interface NewEntry {
  readonly path: string;
  readonly data: Buffer;
}

export interface Tail {
  /** How many bytes of the base come first, unchanged: everything before its central directory. */
  readonly prefixLength: number;
  /**
   * The new local entry, the new central directory and the end records, as pieces: most of it is
   * the base's directory, shared by every bundle, so hashing or writing the pieces copies nothing.
   */
  readonly parts: readonly Buffer[];
  readonly length: number;
  /** The pieces joined (allocates; for callers that keep the tail). */
  readonly bytes: Buffer;
  /** Whether an entry at the same path left the central directory. */
  readonly replaced: boolean;
}

/** 2020-01-01 00:00:00 in MS-DOS format: a fixed time keeps bundles byte-for-byte reproducible. */
const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
const VERSION_NEEDED = 20;
const VERSION_NEEDED_ZIP64 = 45;
/** Made by Unix (3), spec 2.0, so extractors apply the 0644 mode below. */
const VERSION_MADE_BY = (3 << 8) | 20;
const REGULAR_FILE_0644 = (0o100644 << 16) >>> 0;

/**
 * Builds what follows the base's unchanged prefix: one stored entry, then the base's central
 * directory records byte for byte (minus any record at the same path), the new record last, and
 * end records. Costs O(config + central directory), whatever the size of the base.
 */
export function buildTail(base: SpliceBase, entry: NewEntry): Tail {
  const nameRaw = Buffer.from(entry.path, 'utf8');
  const problem = entryNameProblem(nameRaw);
  if (problem !== null || entry.path.endsWith('/'))
    throw new UsageError(`config path ${JSON.stringify(entry.path)} ${problem ?? 'is a directory'}`);
  const localOffset = base.centralDirectoryOffset;
  const crc = crc32(entry.data);
  const flags = /^[\x20-\x7e]*$/.test(entry.path) ? 0 : FLAG_UTF8;
  const local = localHeader(nameRaw, flags, crc, entry.data.length);
  const kept = keptDirectory(base, nameRaw);
  const central = centralRecord(nameRaw, flags, crc, entry.data.length, localOffset);
  const entryCount = kept.count + 1;
  const cdOffset = localOffset + local.length + entry.data.length;
  const cdSize = kept.size + central.length;
  const ends = endRecords(entryCount, cdOffset, cdSize, base.comment, base.zip64);
  const parts = [local, entry.data, ...kept.parts, central, ends];
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  let joined: Buffer | undefined;
  return {
    prefixLength: localOffset,
    parts,
    length,
    get bytes() {
      joined ??= Buffer.concat(parts, length);
      return joined;
    },
    replaced: kept.count !== base.entries.count,
  };
}

function keptDirectory(base: SpliceBase, nameRaw: Buffer): { parts: Buffer[]; count: number; size: number } {
  const { entries } = base;
  const replaced = entries.nameIndex().findRaw(nameRaw);
  const cd = base.centralDirectory;
  if (replaced === -1) return { parts: [cd], count: entries.count, size: cd.length };
  const start = entries.start(replaced);
  const length = entries.recordLength(replaced);
  const parts = [cd.subarray(0, start), cd.subarray(start + length)];
  return { parts, count: entries.count - 1, size: cd.length - length };
}

function localHeader(nameRaw: Buffer, flags: number, crc: number, size: number): Buffer {
  const header = Buffer.alloc(LOCAL_HEADER_SIZE + nameRaw.length);
  header.writeUInt32LE(SIG_LOCAL, LOCAL.signature);
  header.writeUInt16LE(VERSION_NEEDED, LOCAL.versionNeededToExtract);
  header.writeUInt16LE(flags, LOCAL.generalPurposeBitFlag);
  header.writeUInt16LE(METHOD_STORED, LOCAL.compressionMethod);
  header.writeUInt16LE(DOS_TIME, LOCAL.lastModFileTime);
  header.writeUInt16LE(DOS_DATE, LOCAL.lastModFileDate);
  header.writeUInt32LE(crc, LOCAL.crc32);
  header.writeUInt32LE(size, LOCAL.compressedSize);
  header.writeUInt32LE(size, LOCAL.uncompressedSize);
  header.writeUInt16LE(nameRaw.length, LOCAL.fileNameLength);
  header.writeUInt16LE(0, LOCAL.extraFieldLength);
  nameRaw.copy(header, LOCAL_HEADER_SIZE);
  return header;
}

function centralRecord(
  nameRaw: Buffer,
  flags: number,
  crc: number,
  size: number,
  localOffset: number,
): Buffer {
  const farOffset = localOffset >= U32_MAX;
  const extra = farOffset ? zip64OffsetExtra(localOffset) : Buffer.alloc(0);
  const record = Buffer.alloc(CENTRAL_HEADER_SIZE + nameRaw.length + extra.length);
  record.writeUInt32LE(SIG_CENTRAL, CENTRAL.signature);
  record.writeUInt16LE(VERSION_MADE_BY, CENTRAL.versionMadeBy);
  record.writeUInt16LE(farOffset ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, CENTRAL.versionNeededToExtract);
  record.writeUInt16LE(flags, CENTRAL.generalPurposeBitFlag);
  record.writeUInt16LE(METHOD_STORED, CENTRAL.compressionMethod);
  record.writeUInt16LE(DOS_TIME, CENTRAL.lastModFileTime);
  record.writeUInt16LE(DOS_DATE, CENTRAL.lastModFileDate);
  record.writeUInt32LE(crc, CENTRAL.crc32);
  record.writeUInt32LE(size, CENTRAL.compressedSize);
  record.writeUInt32LE(size, CENTRAL.uncompressedSize);
  record.writeUInt16LE(nameRaw.length, CENTRAL.fileNameLength);
  record.writeUInt16LE(extra.length, CENTRAL.extraFieldLength);
  record.writeUInt16LE(0, CENTRAL.fileCommentLength);
  record.writeUInt16LE(0, CENTRAL.diskNumberStart);
  record.writeUInt16LE(0, CENTRAL.internalFileAttributes);
  record.writeUInt32LE(REGULAR_FILE_0644, CENTRAL.externalFileAttributes);
  record.writeUInt32LE(farOffset ? U32_MAX : localOffset, CENTRAL.relativeOffsetOfLocalHeader);
  nameRaw.copy(record, CENTRAL_HEADER_SIZE);
  extra.copy(record, CENTRAL_HEADER_SIZE + nameRaw.length);
  return record;
}

function zip64OffsetExtra(offset: number): Buffer {
  // Only the offset is saturated, so it is the field's only value.
  const extra = Buffer.alloc(EXTRA_FIELD.data + 8);
  extra.writeUInt16LE(ZIP64_EXTRA_ID, EXTRA_FIELD.headerId);
  extra.writeUInt16LE(8, EXTRA_FIELD.dataSize);
  writeU64(extra, offset, EXTRA_FIELD.data);
  return extra;
}

/** Classic end record, preceded by zip64 records when a count or offset needs them (or the base had them). */
function endRecords(
  count: number,
  cdOffset: number,
  cdSize: number,
  comment: Buffer,
  baseZip64: boolean,
): Buffer {
  const countOverflows = count >= U16_MAX;
  const offsetOverflows = cdOffset >= U32_MAX;
  const sizeOverflows = cdSize >= U32_MAX;
  const zip64 = baseZip64 || countOverflows || offsetOverflows || sizeOverflows;
  const eocd = Buffer.alloc(EOCD_SIZE + comment.length);
  eocd.writeUInt32LE(SIG_EOCD, EOCD.signature);
  eocd.writeUInt16LE(countOverflows ? U16_MAX : count, EOCD.entryCountThisDisk);
  eocd.writeUInt16LE(countOverflows ? U16_MAX : count, EOCD.entryCount);
  eocd.writeUInt32LE(sizeOverflows ? U32_MAX : cdSize, EOCD.centralDirectorySize);
  eocd.writeUInt32LE(offsetOverflows ? U32_MAX : cdOffset, EOCD.centralDirectoryOffset);
  eocd.writeUInt16LE(comment.length, EOCD.commentLength);
  comment.copy(eocd, EOCD_SIZE);
  if (!zip64) return eocd;
  const record = Buffer.alloc(ZIP64_EOCD_SIZE);
  record.writeUInt32LE(SIG_ZIP64_EOCD, ZIP64_EOCD.signature);
  // The size counts what follows the size field itself.
  writeU64(record, ZIP64_EOCD_SIZE - (ZIP64_EOCD.sizeOfRecord + 8), ZIP64_EOCD.sizeOfRecord);
  record.writeUInt16LE((3 << 8) | VERSION_NEEDED_ZIP64, ZIP64_EOCD.versionMadeBy);
  record.writeUInt16LE(VERSION_NEEDED_ZIP64, ZIP64_EOCD.versionNeededToExtract);
  writeU64(record, count, ZIP64_EOCD.entryCountThisDisk);
  writeU64(record, count, ZIP64_EOCD.entryCount);
  writeU64(record, cdSize, ZIP64_EOCD.centralDirectorySize);
  writeU64(record, cdOffset, ZIP64_EOCD.centralDirectoryOffset);
  const locator = Buffer.alloc(ZIP64_LOCATOR_SIZE);
  locator.writeUInt32LE(SIG_ZIP64_LOCATOR, ZIP64_LOCATOR.signature);
  writeU64(locator, cdOffset + cdSize, ZIP64_LOCATOR.zip64EocdrOffset);
  locator.writeUInt32LE(1, ZIP64_LOCATOR.totalNumberOfDisks);
  return Buffer.concat([record, locator, eocd]);
}
