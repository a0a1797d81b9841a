import { type FileHandle, open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { ArchiveError } from '../common/errors.js';
import { checkNames, checkRecords } from './checks.js';
import type { DirectoryEntries } from './directory.js';
import { CENTRAL, CENTRAL_HEADER_SIZE, METHOD_DEFLATED, u16 } from './format.js';
import { type ArchiveLimits, defaultLimits } from './limits.js';
import { parseManifestMainSection, signatureFiles } from './manifest.js';
import { type ChunkSink, PrefixStream } from './prefix-stream.js';
import { type EntrySpan, scanEntries } from './scan.js';
import { type ArchiveStructure, locateDirectory, readAt, readDirectory } from './structure.js';

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
  /** Also receives those bytes, written at the same offsets (the splice writer's copy of the base). */
  readonly copyTo?: FileHandle;
}

export interface InspectResult {
  readonly summary: ArchiveSummary;
  readonly structure: ArchiveStructure;
}

/**
 * Validates a base archive: structure, names, limits, headers, and (optionally) all data. Reading
 * the bytes before the central directory starts as soon as the end records say where it is, so
 * the thread pool reads (and copies) while this thread parses and checks the directory.
 */
export async function inspectArchive(path: string, options: InspectOptions = {}): Promise<InspectResult> {
  const limits = options.limits ?? defaultLimits;
  const fh = await open(path, 'r');
  let stream: PrefixStream | undefined;
  try {
    const stats = await fh.stat();
    // A directory opens fine on Linux and fails only at the first read, with no path in the error.
    if (!stats.isFile()) throw new ArchiveError('not a regular file');
    const { size } = stats;
    if (size > limits.maxArchiveBytes)
      throw new ArchiveError(`archive is ${size} bytes, more than the limit of ${limits.maxArchiveBytes}`);
    const location = await locateDirectory(fh, size, limits.maxEntries);
    stream = new PrefixStream(fh, location.centralDirectoryOffset, {
      ...(options.sink === undefined ? {} : { sink: options.sink }),
      ...(options.copyTo === undefined ? {} : { copyTo: options.copyTo }),
    });
    const structure = await readDirectory(fh, location);
    const { entries } = structure;
    // Declared sizes and limits first: nothing may be inflated before they pass. The names are
    // checked after the header scan, so the scan (and the hashing it paces) starts sooner.
    const totals = checkRecords(entries, limits);
    const verifyData = options.verifyData ?? true;
    const scan = await scanEntries(stream, structure, {
      maxPreambleBytes: limits.maxPreambleBytes,
      verifyData,
    });
    const names = checkNames(entries);
    await stream.finish();
    if (verifyData && scan.unverified.length > 0) {
      // yauzl streams the entries too large to inflate in memory; loaded only when there are any.
      const { verifyEntryData } = await import('./data.js');
      await verifyEntryData(fh.fd, scan.unverified);
    }
    const manifest = await readManifest(fh, scan.manifest);
    const summary: ArchiveSummary = {
      fileSize: size,
      entryCount: structure.entryCount,
      zip64: structure.zip64,
      preambleBytes: scan.preambleBytes,
      compressedBytes: totals.totalCompressed,
      uncompressedBytes: totals.totalUncompressed,
      commentBytes: structure.comment.length,
      manifestFirst:
        entries.nameIs(0, MANIFEST) ||
        (entries.count > 1 && entries.nameIs(0, META_INF) && entries.nameIs(1, MANIFEST)),
      premainClass: manifest?.get('Premain-Class') ?? null,
      signatureFiles: signatureFiles(metaInfNames(entries)),
      configEntry:
        options.configPath === undefined
          ? null
          : { path: options.configPath, present: names.find(options.configPath) !== -1 },
      dataVerified: verifyData,
    };
    return { summary, structure };
  } catch (error) {
    await stream?.abort();
    throw error;
  } finally {
    await fh.close();
  }
}

const MANIFEST = Buffer.from('META-INF/MANIFEST.MF');
const META_INF = Buffer.from('META-INF/');

/** Names under META-INF/ in any ASCII case, decoded: the only ones a JAR signature can be. */
function metaInfNames(entries: DirectoryEntries): string[] {
  const names: string[] = [];
  const cd = entries.directory;
  const { starts } = entries;
  for (let i = 0; i < entries.count; i++) {
    const record = starts[i] as number;
    const start = record + CENTRAL_HEADER_SIZE;
    // 'M' or 'm' first: most names are ruled out by one byte.
    if (
      ((cd[start] as number) | 0x20) !== 0x6d ||
      u16(cd, record + CENTRAL.fileNameLength) <= META_INF.length
    )
      continue;
    let k = 1;
    while (k < META_INF.length && ((cd[start + k] as number) & 0xdf) === ((META_INF[k] as number) & 0xdf))
      k++;
    if (k === META_INF.length) names.push(entries.name(i));
  }
  return names;
}

const MANIFEST_LIMIT = 1024 * 1024;

async function readManifest(
  fh: FileHandle,
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
