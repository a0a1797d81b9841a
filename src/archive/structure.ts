import type { FileHandle } from 'node:fs/promises';
import { ArchiveError } from '../common/errors.js';
import { type CentralRecord, DirectoryEntries } from './directory.js';
import {
  CENTRAL,
  CENTRAL_HEADER_SIZE,
  EOCD,
  EOCD_SIZE,
  MAX_COMMENT,
  readU64,
  SIG_CENTRAL,
  SIG_EOCD,
  SIG_LOCAL,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
  U16_MAX,
  U32_MAX,
  ZIP64_EOCD,
  ZIP64_EOCD_SIZE,
  ZIP64_LOCATOR,
  ZIP64_LOCATOR_SIZE,
} from './format.js';
import { keepLayout } from './keep-layout.js';

export type { CentralRecord } from './directory.js';

/** Where the central directory and end records are, read from the end of the file. */
export interface DirectoryLocation {
  readonly fileSize: number;
  readonly entryCount: number;
  readonly centralDirectoryOffset: number;
  readonly centralDirectorySize: number;
  /** Start of the zip64 end record, or of the classic end record when there is none. */
  readonly endRecordsOffset: number;
  readonly comment: Buffer;
  readonly zip64: boolean;
}

export interface ArchiveStructure extends DirectoryLocation {
  readonly centralDirectory: Buffer;
  readonly entries: DirectoryEntries;
  /** One object per entry, in directory order, built on first use (checks and splices never need them). */
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
    if (tail.readUInt32LE(pos + EOCD.signature) !== SIG_EOCD) continue;
    const commentLength = tail.readUInt16LE(pos + EOCD.commentLength);
    if (pos + EOCD_SIZE + commentLength !== tailLength) continue;
    const disk = tail.readUInt16LE(pos + EOCD.diskNumber);
    const cdDisk = tail.readUInt16LE(pos + EOCD.centralDirectoryDiskNumber);
    const entriesOnDisk = tail.readUInt16LE(pos + EOCD.entryCountThisDisk);
    const entryCount = tail.readUInt16LE(pos + EOCD.entryCount);
    const cdSize = tail.readUInt32LE(pos + EOCD.centralDirectorySize);
    const cdOffset = tail.readUInt32LE(pos + EOCD.centralDirectoryOffset);
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
  if (head.length === 4 && head.readUInt32LE(0) === SIG_LOCAL) {
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
  if (locator === null || locator.readUInt32LE(ZIP64_LOCATOR.signature) !== SIG_ZIP64_LOCATOR) {
    if (end.needsZip64)
      throw new ArchiveError(
        'end record needs zip64 values but the zip64 end-of-central-directory locator is missing',
      );
    return { end, zip64: false, endRecordsOffset: end.eocdOffset };
  }
  if (
    locator.readUInt32LE(ZIP64_LOCATOR.zip64EocdrDiskNumber) !== 0 ||
    locator.readUInt32LE(ZIP64_LOCATOR.totalNumberOfDisks) > 1
  )
    throw new ArchiveError('multi-disk (split) archives are not supported');
  const recordOffset = readU64(locator, ZIP64_LOCATOR.zip64EocdrOffset);
  if (recordOffset === null || recordOffset + ZIP64_EOCD_SIZE > locatorOffset) {
    throw new ArchiveError(
      `zip64 locator points to offset ${recordOffset ?? 'beyond 2^53'}, past its own position ${locatorOffset}`,
    );
  }
  const record = await readAt(fh, recordOffset, ZIP64_EOCD_SIZE);
  if (record.readUInt32LE(ZIP64_EOCD.signature) !== SIG_ZIP64_EOCD)
    throw new ArchiveError(
      `bad zip64 end-of-central-directory record at offset ${recordOffset}: wrong signature`,
    );
  const recordSize = readU64(record, ZIP64_EOCD.sizeOfRecord);
  // The size counts what follows the size field itself.
  if (recordSize === null || recordOffset + ZIP64_EOCD.sizeOfRecord + 8 + recordSize !== locatorOffset) {
    throw new ArchiveError(
      `zip64 end record at offset ${recordOffset} declares ${recordSize} bytes, which does not reach the locator at ${locatorOffset}`,
    );
  }
  if (
    record.readUInt32LE(ZIP64_EOCD.diskNumber) !== 0 ||
    record.readUInt32LE(ZIP64_EOCD.centralDirectoryDiskNumber) !== 0
  )
    throw new ArchiveError('multi-disk (split) archives are not supported');
  const entriesOnDisk = readU64(record, ZIP64_EOCD.entryCountThisDisk);
  const entryCount = readU64(record, ZIP64_EOCD.entryCount);
  const cdSize = readU64(record, ZIP64_EOCD.centralDirectorySize);
  const cdOffset = readU64(record, ZIP64_EOCD.centralDirectoryOffset);
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

/** Reads the end records and checks that they fit together; the directory itself is not read yet. */
export async function locateDirectory(
  fh: FileHandle,
  fileSize: number,
  maxEntries: number,
): Promise<DirectoryLocation> {
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
    if (probe !== null && probe.readUInt32LE(CENTRAL.signature) === SIG_CENTRAL) {
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
  return {
    fileSize,
    entryCount: end.entryCount,
    centralDirectoryOffset: end.cdOffset,
    centralDirectorySize: end.cdSize,
    endRecordsOffset,
    comment: end.comment,
    zip64,
  };
}

/** Reads and parses the central directory found by locateDirectory. */
export async function readDirectory(fh: FileHandle, location: DirectoryLocation): Promise<ArchiveStructure> {
  const centralDirectory = await readAt(fh, location.centralDirectoryOffset, location.centralDirectorySize);
  return new Structure(
    location,
    centralDirectory,
    new DirectoryEntries(centralDirectory, location.entryCount),
  );
}

/** A class rather than a literal with a getter: a literal's getter is a new closure, hence a new map, per archive. */
class Structure implements ArchiveStructure {
  readonly fileSize: number;
  readonly entryCount: number;
  readonly centralDirectoryOffset: number;
  readonly centralDirectorySize: number;
  readonly endRecordsOffset: number;
  readonly comment: Buffer;
  readonly zip64: boolean;

  constructor(
    location: DirectoryLocation,
    readonly centralDirectory: Buffer,
    readonly entries: DirectoryEntries,
  ) {
    this.fileSize = location.fileSize;
    this.entryCount = location.entryCount;
    this.centralDirectoryOffset = location.centralDirectoryOffset;
    this.centralDirectorySize = location.centralDirectorySize;
    this.endRecordsOffset = location.endRecordsOffset;
    this.comment = location.comment;
    this.zip64 = location.zip64;
    keepLayout(this);
  }

  get records(): readonly CentralRecord[] {
    return this.entries.records();
  }
}
