import { ArchiveError } from '../errors.js';
import { FLAG_ENCRYPTED, FLAG_STRONG_ENCRYPTION, METHOD_DEFLATED, METHOD_STORED } from './format.js';
import { type ArchiveLimits, ratioExemptBytes } from './limits.js';
import { displayName, entryNameProblem } from './names.js';
import type { CentralRecord } from './structure.js';

const UNIX_HOST = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Checks one central record on its own; returns a reason or null. */
export function recordProblem(record: CentralRecord): string | null {
  const nameProblem = entryNameProblem(record.nameRaw);
  if (nameProblem !== null) return nameProblem;
  if ((record.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0) return 'is encrypted';
  if (record.versionMadeBy >> 8 === UNIX_HOST && ((record.externalAttributes >>> 16) & S_IFMT) === S_IFLNK) {
    return 'is a symbolic link';
  }
  if (record.method !== METHOD_STORED && record.method !== METHOD_DEFLATED) {
    return `uses compression method ${record.method} (only 0 stored and 8 deflate are supported)`;
  }
  if (record.method === METHOD_STORED && record.compressedSize !== record.uncompressedSize) {
    return `is stored but declares ${record.compressedSize} compressed and ${record.uncompressedSize} uncompressed bytes`;
  }
  if (record.nameRaw[record.nameRaw.length - 1] === 0x2f && record.uncompressedSize !== 0) {
    return `is a directory but declares ${record.uncompressedSize} bytes of data`;
  }
  return null;
}

/** Checks every record, names across records, and the declared totals against the limits. */
export function checkRecords(
  records: readonly CentralRecord[],
  limits: ArchiveLimits,
): { totalUncompressed: number } {
  const seen = new Set<string>();
  let totalUncompressed = 0;
  for (const record of records) {
    const problem = recordProblem(record);
    if (problem !== null) throw new ArchiveError(`entry ${displayName(record.name)} ${problem}`);
    // Decoded names: two byte sequences that decode alike would extract to the same file anyway.
    const key = record.name;
    if (seen.has(key)) throw new ArchiveError(`duplicate entry name ${displayName(record.name)}`);
    seen.add(key);
    checkRatio(record, limits);
    totalUncompressed += record.uncompressedSize;
    if (totalUncompressed > limits.maxTotalUncompressedBytes) {
      throw new ArchiveError(
        `entries declare more than ${limits.maxTotalUncompressedBytes} uncompressed bytes in total (the limit)`,
      );
    }
  }
  return { totalUncompressed };
}

function checkRatio(record: CentralRecord, limits: ArchiveLimits): void {
  if (record.uncompressedSize < ratioExemptBytes) return;
  const ratio = record.uncompressedSize / Math.max(1, record.compressedSize);
  if (ratio > limits.maxCompressionRatio) {
    throw new ArchiveError(
      `entry ${displayName(record.name)} has a compression ratio of ${Math.round(ratio)}:1, above the limit of ${limits.maxCompressionRatio}:1`,
    );
  }
}
