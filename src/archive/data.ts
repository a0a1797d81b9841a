import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { ArchiveError } from '../common/errors.js';
import { METHOD_DEFLATED } from './format.js';
import { displayName } from './names.js';
import type { EntrySpan } from './scan.js';

/**
 * Inflates every entry and checks it against what its central record declares: the byte count
 * (yauzl stops a stream that runs past the declared size, so a lying header cannot inflate
 * without bound) and the CRC-32.
 */
export async function verifyEntryData(fd: number, spans: readonly EntrySpan[]): Promise<void> {
  const zip = await yauzl.fromFdPromise(fd, {
    autoClose: false,
    lazyEntries: true,
    decodeStrings: false,
    validateEntrySizes: true,
  });
  // No zip.close(): yauzl would close the descriptor, which belongs to the caller's FileHandle.
  for (const span of spans) await verifyOne(zip, span);
}

async function verifyOne(zip: yauzl.ZipFile, span: EntrySpan): Promise<void> {
  const { record } = span;
  if (record.compressedSize === 0 && record.uncompressedSize === 0 && record.method !== METHOD_DEFLATED)
    return;
  const stream = await openData(zip, span);
  let crc = 0;
  let count = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      crc = crc32(chunk, crc);
      count += chunk.length;
    }
  } catch (error) {
    throw new ArchiveError(
      `entry ${displayName(record.name)}: ${dataProblem(error, record.uncompressedSize)}`,
      { cause: error },
    );
  }
  if (count !== record.uncompressedSize) {
    throw new ArchiveError(
      `entry ${displayName(record.name)}: expected ${record.uncompressedSize} bytes, got only ${count}`,
    );
  }
  if (crc !== record.crc32)
    throw new ArchiveError(`entry ${displayName(record.name)}: CRC-32 does not match its data`);
}

function openData(zip: yauzl.ZipFile, span: EntrySpan): Promise<Readable> {
  const { record } = span;
  return new Promise((resolve, reject) => {
    zip.openReadStreamLowLevel(
      span.dataStart,
      record.compressedSize,
      0,
      record.compressedSize,
      record.method === METHOD_DEFLATED,
      record.uncompressedSize,
      (error, stream) => (error ? reject(error) : resolve(stream)),
    );
  });
}

function dataProblem(error: unknown, declared: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/too many bytes/i.test(message)) return `inflates past its declared size of ${declared} bytes`;
  if (/not enough bytes|unexpected end/i.test(message))
    return `inflates to fewer bytes than its declared ${declared}`;
  return `compressed data is corrupt (${message})`;
}
