import { ArchiveError } from '../common/errors.js';
import { entryNameProblem } from '../common/validate.js';
import type { DirectoryEntries } from './directory.js';
import {
  CENTRAL,
  CENTRAL_HEADER_SIZE,
  FLAG_ENCRYPTED,
  FLAG_STRONG_ENCRYPTION,
  METHOD_DEFLATED,
  METHOD_STORED,
  u16,
  u32,
} from './format.js';
import { type ArchiveLimits, ratioExemptBytes } from './limits.js';
import { checkedNameHash, NameIndex, SUSPECT_NAME } from './name-index.js';
import { displayName } from './names.js';

const UNIX_HOST = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const SLASH = 0x2f;

/** Checks what entry i's central record declares, its name aside; returns a reason or null. */
export function recordProblem(entries: DirectoryEntries, i: number): string | null {
  const cd = entries.directory;
  const at = entries.starts[i] as number;
  if ((u16(cd, at + CENTRAL.generalPurposeBitFlag) & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0)
    return 'is encrypted';
  const host = u16(cd, at + CENTRAL.versionMadeBy) >> 8;
  const mode = u32(cd, at + CENTRAL.externalFileAttributes) >>> 16;
  if (host === UNIX_HOST && (mode & S_IFMT) === S_IFLNK) {
    return 'is a symbolic link';
  }
  const method = u16(cd, at + CENTRAL.compressionMethod);
  if (method !== METHOD_STORED && method !== METHOD_DEFLATED) {
    return `uses compression method ${method} (only 0 stored and 8 deflate are supported)`;
  }
  const compressed = entries.compressed[i] as number;
  const uncompressed = entries.uncompressed[i] as number;
  if (method === METHOD_STORED && compressed !== uncompressed) {
    return `is stored but declares ${compressed} compressed and ${uncompressed} uncompressed bytes`;
  }
  const nameEnd = at + CENTRAL_HEADER_SIZE + u16(cd, at + CENTRAL.fileNameLength);
  if (cd[nameEnd - 1] === SLASH && uncompressed !== 0) {
    return `is a directory but declares ${uncompressed} bytes of data`;
  }
  return null;
}

/**
 * Checks every record's declarations and the declared totals against the limits, before any
 * byte of entry data is read (a ratio or size limit must stop a bomb before it is inflated).
 */
export function checkRecords(
  entries: DirectoryEntries,
  limits: ArchiveLimits,
): { totalUncompressed: number; totalCompressed: number } {
  const { compressed, uncompressed } = entries;
  let totalUncompressed = 0;
  let totalCompressed = 0;
  for (let i = 0; i < entries.count; i++) {
    const problem = recordProblem(entries, i);
    if (problem !== null) throw new ArchiveError(`entry ${displayName(entries.name(i))} ${problem}`);
    const size = uncompressed[i] as number;
    const packed = compressed[i] as number;
    if (size >= ratioExemptBytes && size / Math.max(1, packed) > limits.maxCompressionRatio) {
      throw new ArchiveError(
        `entry ${displayName(entries.name(i))} has a compression ratio of ${Math.round(size / Math.max(1, packed))}:1, above the limit of ${limits.maxCompressionRatio}:1`,
      );
    }
    totalCompressed += packed;
    totalUncompressed += size;
    if (totalUncompressed > limits.maxTotalUncompressedBytes) {
      throw new ArchiveError(
        `entries declare more than ${limits.maxTotalUncompressedBytes} uncompressed bytes in total (the limit)`,
      );
    }
  }
  return { totalUncompressed, totalCompressed };
}

/**
 * Checks every name (on its raw bytes) and that no two decode alike, in one pass over the names
 * that also indexes them; the first entry with a problem is the one reported.
 */
export function checkNames(entries: DirectoryEntries): NameIndex {
  const index = new NameIndex(entries);
  const cd = entries.directory;
  const starts = entries.starts;
  for (let i = 0; i < entries.count; i++) {
    const at = starts[i] as number;
    const start = at + CENTRAL_HEADER_SIZE;
    const end = start + u16(cd, at + CENTRAL.fileNameLength);
    let hash = checkedNameHash(cd, start, end);
    if (hash === SUSPECT_NAME) {
      const problem = entryNameProblem(cd, start, end);
      if (problem !== null) throw new ArchiveError(`entry ${displayName(entries.name(i))} ${problem}`);
      hash = index.hashOf(i);
    }
    if (index.add(i, hash) !== -1)
      throw new ArchiveError(`duplicate entry name ${displayName(entries.name(i))}`);
  }
  entries.adoptNameIndex(index);
  return index;
}
