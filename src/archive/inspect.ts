import { open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { ArchiveError } from '../errors.js';
import { checkRecords } from './checks.js';
import { METHOD_DEFLATED } from './format.js';
import { type ArchiveLimits, defaultLimits } from './limits.js';
import { parseManifestMainSection, signatureFiles } from './manifest.js';
import { type ChunkSink, type EntrySpan, scanEntries } from './scan.js';
import { type ArchiveStructure, readAt, readStructure } from './structure.js';

export interface ArchiveSummary {
  readonly fileSize: number;
  readonly entryCount: number;
  readonly zip64: boolean;
  readonly preambleBytes: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly commentBytes: number;
  readonly manifestFirst: boolean;
  readonly premainClass: string | null;
  readonly signatureFiles: readonly string[];
  /** Whether the archive already holds the config entry (it is replaced when a bundle is built). */
  readonly configEntry: { readonly path: string; readonly present: boolean } | null;
  /** True when every entry was inflated and checked, not just the headers. */
  readonly dataVerified: boolean;
}

export interface InspectOptions {
  readonly limits?: ArchiveLimits;
  /** Inflate every entry to enforce declared sizes and CRCs (catalog uploads, `inspect`). */
  readonly verifyData?: boolean;
  /** The kind's target path, to report whether the base already holds it. */
  readonly configPath?: string;
  /** Receives the bytes before the central directory while they are checked. */
  readonly sink?: ChunkSink;
}

export interface InspectResult {
  readonly summary: ArchiveSummary;
  readonly structure: ArchiveStructure;
}

/** Validates a base archive: structure, names, limits, headers, and (optionally) all data. */
export async function inspectArchive(path: string, options: InspectOptions = {}): Promise<InspectResult> {
  const limits = options.limits ?? defaultLimits;
  const fh = await open(path, 'r');
  try {
    const stats = await fh.stat();
    // A directory opens fine on Linux and fails only at the first read, with no path in the error.
    if (!stats.isFile()) throw new ArchiveError('not a regular file');
    const { size } = stats;
    if (size > limits.maxArchiveBytes)
      throw new ArchiveError(`archive is ${size} bytes, more than the limit of ${limits.maxArchiveBytes}`);
    const structure = await readStructure(fh, size, limits.maxEntries);
    const { totalUncompressed } = checkRecords(structure.records, limits);
    const verifyData = options.verifyData ?? true;
    const scan = await scanEntries(fh, structure, {
      maxPreambleBytes: limits.maxPreambleBytes,
      verifyData,
      ...(options.sink === undefined ? {} : { sink: options.sink }),
    });
    if (verifyData && scan.unverified.length > 0) {
      // yauzl streams the entries too large to inflate in memory; loaded only when there are any.
      const { verifyEntryData } = await import('./data.js');
      await verifyEntryData(fh.fd, scan.unverified);
    }
    const manifest = await readManifest(fh, scan.manifest);
    const names = structure.records.map((record) => record.name);
    const summary: ArchiveSummary = {
      fileSize: size,
      entryCount: structure.entryCount,
      zip64: structure.zip64,
      preambleBytes: scan.preambleBytes,
      compressedBytes: structure.records.reduce((sum, record) => sum + record.compressedSize, 0),
      uncompressedBytes: totalUncompressed,
      commentBytes: structure.comment.length,
      manifestFirst:
        structure.records[0]?.name === 'META-INF/MANIFEST.MF' ||
        (structure.records[0]?.name === 'META-INF/' && structure.records[1]?.name === 'META-INF/MANIFEST.MF'),
      premainClass: manifest?.get('Premain-Class') ?? null,
      signatureFiles: signatureFiles(names),
      configEntry:
        options.configPath === undefined
          ? null
          : { path: options.configPath, present: names.includes(options.configPath) },
      dataVerified: verifyData,
    };
    return { summary, structure };
  } finally {
    await fh.close();
  }
}

const MANIFEST_LIMIT = 1024 * 1024;

async function readManifest(
  fh: import('node:fs/promises').FileHandle,
  span: EntrySpan | undefined,
): Promise<Map<string, string> | null> {
  if (span === undefined) return null;
  const { record } = span;
  if (record.uncompressedSize > MANIFEST_LIMIT)
    throw new ArchiveError(
      `META-INF/MANIFEST.MF is ${record.uncompressedSize} bytes, more than ${MANIFEST_LIMIT}`,
    );
  const raw = await readAt(fh, span.dataStart, record.compressedSize);
  let data: Buffer;
  try {
    data =
      record.method === METHOD_DEFLATED
        ? inflateRawSync(raw, { maxOutputLength: Math.max(1, record.uncompressedSize) })
        : raw;
  } catch (error) {
    throw new ArchiveError('META-INF/MANIFEST.MF cannot be inflated', { cause: error });
  }
  return parseManifestMainSection(data.toString('utf8'));
}
