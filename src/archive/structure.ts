import type { FileHandle } from 'node:fs/promises';
import { ArchiveError } from '../errors.js';
import {
  CENTRAL_HEADER_SIZE,
  EOCD_SIZE,
  FLAG_UTF8,
  MAX_COMMENT,
  parseExtraFields,
  readU64,
  SIG_CENTRAL,
  SIG_EOCD,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
  U16_MAX,
  U32_MAX,
  ZIP64_EOCD_SIZE,
  ZIP64_EXTRA_ID,
  ZIP64_LOCATOR_SIZE,
} from './format.js';
import { decodeEntryName, displayName } from './names.js';

/** One central-directory record, with where its raw bytes sit in the directory. */
export interface CentralRecord {
  readonly index: number;
  readonly nameRaw: Buffer;
  readonly name: string;
  readonly versionMadeBy: number;
  readonly versionNeeded: number;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localOffset: number;
  readonly externalAttributes: number;
  /** The sizes came from a zip64 extra field, so a data descriptor holds 8-byte sizes. */
  readonly zip64: boolean;
  /** Offset of the record inside the central directory buffer, and its length. */
  readonly recordStart: number;
  readonly recordLength: number;
}

/** Where the central directory and end records are, read from the end of the file. */
export interface ArchiveStructure {
  readonly fileSize: number;
  readonly entryCount: number;
  readonly centralDirectoryOffset: number;
  readonly centralDirectorySize: number;
  /** Start of the zip64 end record, or of the classic end record when there is none. */
  readonly endRecordsOffset: number;
  readonly comment: Buffer;
  readonly zip64: boolean;
  readonly centralDirectory: Buffer;
  readonly records: readonly CentralRecord[];
}

export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0)
      throw new ArchiveError(
        `archive is truncated: expected ${length} bytes at offset ${position}, got only ${done}`,
      );
    done += bytesRead;
  }
  return buf;
}

interface EndRecord {
  eocdOffset: number;
  entryCount: number;
  cdSize: number;
  cdOffset: number;
  comment: Buffer;
  needsZip64: boolean;
}

/** Finds the end record whose comment runs exactly to the end of the file. */
async function findEndRecord(fh: FileHandle, fileSize: number): Promise<EndRecord> {
  if (fileSize < EOCD_SIZE)
    throw new ArchiveError(
      `not a zip archive: ${fileSize} bytes is too short for an end-of-central-directory record`,
    );
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tail = await readAt(fh, fileSize - tailLength, tailLength);
  for (let pos = tailLength - EOCD_SIZE; pos >= 0; pos--) {
    if (tail.readUInt32LE(pos) !== SIG_EOCD) continue;
    const commentLength = tail.readUInt16LE(pos + 20);
    if (pos + EOCD_SIZE + commentLength !== tailLength) continue;
    const disk = tail.readUInt16LE(pos + 4);
    const cdDisk = tail.readUInt16LE(pos + 6);
    const entriesOnDisk = tail.readUInt16LE(pos + 8);
    const entryCount = tail.readUInt16LE(pos + 10);
    const cdSize = tail.readUInt32LE(pos + 12);
    const cdOffset = tail.readUInt32LE(pos + 16);
    const needsZip64 = entryCount === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX;
    if (!needsZip64 && (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== entryCount)) {
      throw new ArchiveError('multi-disk (split) archives are not supported');
    }
    return {
      eocdOffset: fileSize - tailLength + pos,
      entryCount,
      cdSize,
      cdOffset,
      comment: Buffer.from(tail.subarray(pos + EOCD_SIZE, pos + EOCD_SIZE + commentLength)),
      needsZip64,
    };
  }
  const head = await readAt(fh, 0, Math.min(4, fileSize));
  if (head.length === 4 && head.readUInt32LE(0) === 0x04034b50) {
    throw new ArchiveError('archive is truncated: no end-of-central-directory record found');
  }
  throw new ArchiveError('not a zip archive: no end-of-central-directory record found');
}

/** Applies the zip64 end record when the locator is present; required when the classic one is saturated. */
async function applyZip64(
  fh: FileHandle,
  end: EndRecord,
): Promise<{ end: EndRecord; zip64: boolean; endRecordsOffset: number }> {
  const locatorOffset = end.eocdOffset - ZIP64_LOCATOR_SIZE;
  const locator = locatorOffset >= 0 ? await readAt(fh, locatorOffset, ZIP64_LOCATOR_SIZE) : null;
  if (locator === null || locator.readUInt32LE(0) !== SIG_ZIP64_LOCATOR) {
    if (end.needsZip64)
      throw new ArchiveError(
        'end record needs zip64 values but the zip64 end-of-central-directory locator is missing',
      );
    return { end, zip64: false, endRecordsOffset: end.eocdOffset };
  }
  if (locator.readUInt32LE(4) !== 0 || locator.readUInt32LE(16) > 1)
    throw new ArchiveError('multi-disk (split) archives are not supported');
  const recordOffset = readU64(locator, 8);
  if (recordOffset === null || recordOffset + ZIP64_EOCD_SIZE > locatorOffset) {
    throw new ArchiveError(
      `zip64 locator points to offset ${recordOffset ?? 'beyond 2^53'}, past its own position ${locatorOffset}`,
    );
  }
  const record = await readAt(fh, recordOffset, ZIP64_EOCD_SIZE);
  if (record.readUInt32LE(0) !== SIG_ZIP64_EOCD)
    throw new ArchiveError(
      `bad zip64 end-of-central-directory record at offset ${recordOffset}: wrong signature`,
    );
  const recordSize = readU64(record, 4);
  if (recordSize === null || recordOffset + 12 + recordSize !== locatorOffset) {
    throw new ArchiveError(
      `zip64 end record at offset ${recordOffset} declares ${recordSize} bytes, which does not reach the locator at ${locatorOffset}`,
    );
  }
  if (record.readUInt32LE(16) !== 0 || record.readUInt32LE(20) !== 0)
    throw new ArchiveError('multi-disk (split) archives are not supported');
  const entriesOnDisk = readU64(record, 24);
  const entryCount = readU64(record, 32);
  const cdSize = readU64(record, 40);
  const cdOffset = readU64(record, 48);
  if (entryCount === null || cdSize === null || cdOffset === null || entriesOnDisk !== entryCount) {
    throw new ArchiveError('zip64 end record holds impossible entry counts or sizes');
  }
  const consistent =
    (end.entryCount === U16_MAX || end.entryCount === entryCount) &&
    (end.cdSize === U32_MAX || end.cdSize === cdSize) &&
    (end.cdOffset === U32_MAX || end.cdOffset === cdOffset);
  if (!consistent) throw new ArchiveError('zip64 end record disagrees with the classic end record');
  return { end: { ...end, entryCount, cdSize, cdOffset }, zip64: true, endRecordsOffset: recordOffset };
}

/** Reads the end records and the whole central directory; checks that they fit together. */
export async function readStructure(
  fh: FileHandle,
  fileSize: number,
  maxEntries: number,
): Promise<ArchiveStructure> {
  const found = await findEndRecord(fh, fileSize);
  const { end, zip64, endRecordsOffset } = await applyZip64(fh, found);
  if (end.entryCount === 0) throw new ArchiveError('archive has no entries');
  if (end.entryCount > maxEntries)
    throw new ArchiveError(`archive has ${end.entryCount} entries, more than the limit of ${maxEntries}`);
  const cdEnd = end.cdOffset + end.cdSize;
  if (cdEnd !== endRecordsOffset) {
    if (cdEnd > endRecordsOffset) {
      throw new ArchiveError(
        `central directory (offset ${end.cdOffset}, ${end.cdSize} bytes) runs past the end record at offset ${endRecordsOffset}: the archive is truncated or corrupt`,
      );
    }
    const shifted = endRecordsOffset - end.cdSize;
    const probe = shifted >= 0 ? await readAt(fh, shifted, 4) : null;
    if (probe !== null && probe.readUInt32LE(0) === SIG_CENTRAL) {
      throw new ArchiveError(
        `offsets are relative to byte ${shifted - end.cdOffset}, not to the start of the file (data was prepended without adjusting them; 'zip -A' fixes this)`,
      );
    }
    throw new ArchiveError(
      `${endRecordsOffset - cdEnd} unexpected bytes between the central directory and the end record`,
    );
  }
  if (end.cdSize < end.entryCount * CENTRAL_HEADER_SIZE) {
    throw new ArchiveError(
      `central directory of ${end.cdSize} bytes is too small for ${end.entryCount} entries`,
    );
  }
  const centralDirectory = await readAt(fh, end.cdOffset, end.cdSize);
  const records = parseCentralDirectory(centralDirectory, end.entryCount);
  return {
    fileSize,
    entryCount: end.entryCount,
    centralDirectoryOffset: end.cdOffset,
    centralDirectorySize: end.cdSize,
    endRecordsOffset,
    comment: end.comment,
    zip64,
    centralDirectory,
    records,
  };
}

export function parseCentralDirectory(cd: Buffer, entryCount: number): CentralRecord[] {
  const records: CentralRecord[] = [];
  let pos = 0;
  for (let index = 0; index < entryCount; index++) {
    if (pos + CENTRAL_HEADER_SIZE > cd.length)
      throw new ArchiveError(`central directory ends inside record ${index + 1} of ${entryCount}`);
    if (cd.readUInt32LE(pos) !== SIG_CENTRAL) {
      throw new ArchiveError(
        `central directory record ${index + 1} of ${entryCount} has a bad signature at offset ${pos}`,
      );
    }
    const record = parseCentralRecord(cd, pos, index);
    records.push(record);
    pos += record.recordLength;
  }
  if (pos !== cd.length)
    throw new ArchiveError(`central directory has ${cd.length - pos} bytes after its last record`);
  return records;
}

function parseCentralRecord(cd: Buffer, pos: number, index: number): CentralRecord {
  const nameLength = cd.readUInt16LE(pos + 28);
  const extraLength = cd.readUInt16LE(pos + 30);
  const commentLength = cd.readUInt16LE(pos + 32);
  const recordLength = CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
  if (pos + recordLength > cd.length)
    throw new ArchiveError(`central directory record ${index + 1} runs past the end of the directory`);
  const flags = cd.readUInt16LE(pos + 8);
  const nameRaw = cd.subarray(pos + CENTRAL_HEADER_SIZE, pos + CENTRAL_HEADER_SIZE + nameLength);
  const name = decodeEntryName(nameRaw, (flags & FLAG_UTF8) !== 0);
  const extra = cd.subarray(
    pos + CENTRAL_HEADER_SIZE + nameLength,
    pos + CENTRAL_HEADER_SIZE + nameLength + extraLength,
  );
  let uncompressedSize = cd.readUInt32LE(pos + 24);
  let compressedSize = cd.readUInt32LE(pos + 20);
  let localOffset = cd.readUInt32LE(pos + 42);
  const disk = cd.readUInt16LE(pos + 34);
  const needs = [
    uncompressedSize === U32_MAX,
    compressedSize === U32_MAX,
    localOffset === U32_MAX,
    disk === U16_MAX,
  ];
  let zip64 = false;
  if (needs.some(Boolean)) {
    const parsed = parseExtraFields(extra);
    if ('problem' in parsed) throw new ArchiveError(`entry ${displayName(name)}: ${parsed.problem}`);
    const field = parsed.fields.get(ZIP64_EXTRA_ID);
    if (field === undefined)
      throw new ArchiveError(
        `entry ${displayName(name)} has saturated sizes or offset but no zip64 extra field`,
      );
    const values = readZip64Values(field, needs, name);
    uncompressedSize = values[0] ?? uncompressedSize;
    compressedSize = values[1] ?? compressedSize;
    localOffset = values[2] ?? localOffset;
    zip64 = true;
  } else if (disk !== 0) {
    throw new ArchiveError('multi-disk (split) archives are not supported');
  }
  return {
    index,
    nameRaw,
    name,
    versionMadeBy: cd.readUInt16LE(pos + 4),
    versionNeeded: cd.readUInt16LE(pos + 6),
    flags,
    method: cd.readUInt16LE(pos + 10),
    crc32: cd.readUInt32LE(pos + 16),
    compressedSize,
    uncompressedSize,
    localOffset,
    externalAttributes: cd.readUInt32LE(pos + 38),
    zip64,
    recordStart: pos,
    recordLength,
  };
}

/** Reads the zip64 extra's 8-byte values in spec order, only for the fields that are saturated. */
function readZip64Values(field: Buffer, needs: boolean[], name: string): Array<number | undefined> {
  const values: Array<number | undefined> = [];
  let pos = 0;
  for (let i = 0; i < 3; i++) {
    if (!needs[i]) {
      values.push(undefined);
      continue;
    }
    if (pos + 8 > field.length)
      throw new ArchiveError(`entry ${displayName(name)}: zip64 extra field is too short`);
    const value = readU64(field, pos);
    if (value === null)
      throw new ArchiveError(`entry ${displayName(name)}: zip64 size or offset is beyond 2^53`);
    values.push(value);
    pos += 8;
  }
  if (needs[3]) {
    if (pos + 4 > field.length || field.readUInt32LE(pos) !== 0)
      throw new ArchiveError('multi-disk (split) archives are not supported');
  }
  return values;
}
