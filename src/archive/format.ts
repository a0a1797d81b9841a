/** Zip record signatures and fixed sizes (APPNOTE 6.3.x). */
export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_DESCRIPTOR = 0x08074b50;

export const LOCAL_HEADER_SIZE = 30;
export const CENTRAL_HEADER_SIZE = 46;
export const EOCD_SIZE = 22;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;
/** A data descriptor without its optional signature: CRC-32 and two sizes of 4 bytes, or 8 in zip64. */
export const DESCRIPTOR_SIZE = 12;
export const ZIP64_DESCRIPTOR_SIZE = 20;
export const SIGNATURE_SIZE = 4;
export const MAX_COMMENT = 0xffff;

/**
 * Byte offsets of each record's fields (APPNOTE 6.3.x, section 4.3), named as yauzl names them
 * where it does (the rest after the spec's wording), so a reader can check a read against either.
 */
export const LOCAL = {
  signature: 0,
  versionNeededToExtract: 4,
  generalPurposeBitFlag: 6,
  compressionMethod: 8,
  lastModFileTime: 10,
  lastModFileDate: 12,
  crc32: 14,
  compressedSize: 18,
  uncompressedSize: 22,
  fileNameLength: 26,
  extraFieldLength: 28,
} as const;

export const CENTRAL = {
  signature: 0,
  versionMadeBy: 4,
  versionNeededToExtract: 6,
  generalPurposeBitFlag: 8,
  compressionMethod: 10,
  lastModFileTime: 12,
  lastModFileDate: 14,
  crc32: 16,
  compressedSize: 20,
  uncompressedSize: 24,
  fileNameLength: 28,
  extraFieldLength: 30,
  fileCommentLength: 32,
  diskNumberStart: 34,
  internalFileAttributes: 36,
  externalFileAttributes: 38,
  relativeOffsetOfLocalHeader: 42,
} as const;

export const EOCD = {
  signature: 0,
  diskNumber: 4,
  centralDirectoryDiskNumber: 6,
  entryCountThisDisk: 8,
  entryCount: 10,
  centralDirectorySize: 12,
  centralDirectoryOffset: 16,
  commentLength: 20,
} as const;

export const ZIP64_EOCD = {
  signature: 0,
  /** Size of the rest of the record: it excludes this field and the signature (12 bytes). */
  sizeOfRecord: 4,
  versionMadeBy: 12,
  versionNeededToExtract: 14,
  diskNumber: 16,
  centralDirectoryDiskNumber: 20,
  entryCountThisDisk: 24,
  entryCount: 32,
  centralDirectorySize: 40,
  centralDirectoryOffset: 48,
} as const;

export const ZIP64_LOCATOR = {
  signature: 0,
  zip64EocdrDiskNumber: 4,
  zip64EocdrOffset: 8,
  totalNumberOfDisks: 16,
} as const;

/** A data descriptor after its optional signature; zip64 sizes are 8 bytes each. */
export const DATA_DESCRIPTOR = {
  crc32: 0,
  compressedSize: 4,
  uncompressedSize: 8,
  zip64UncompressedSize: 12,
} as const;

/** An extra field's header, then its data. */
export const EXTRA_FIELD = { headerId: 0, dataSize: 2, data: 4 } as const;

/**
 * The zip64 extra field of a local header, which holds both sizes. A central record's holds only
 * the values it saturated (uncompressed size, compressed size, local header offset, then a 4-byte
 * disk number start), each 8 bytes, in that order.
 */
export const ZIP64_EXTRA = { uncompressedSize: 0, compressedSize: 8 } as const;

export const ZIP64_EXTRA_ID = 0x0001;
export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DESCRIPTOR = 0x0008;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/**
 * Little-endian reads straight from the bytes, for hot loops over thousands of headers (cheaper
 * than Buffer's checked readers once optimized). The caller has checked the range: past the end
 * they would read zeros, not throw.
 */
export function u16(buf: Uint8Array, at: number): number {
  return (buf[at] as number) | ((buf[at + 1] as number) << 8);
}

export function u32(buf: Uint8Array, at: number): number {
  return (
    ((buf[at] as number) | ((buf[at + 1] as number) << 8) | ((buf[at + 2] as number) << 16)) +
    (buf[at + 3] as number) * 0x1000000
  );
}

/** Reads an unsigned 64-bit field, refusing values JavaScript cannot hold exactly. */
export function readU64(buf: Buffer, offset: number): number | null {
  const value = buf.readBigUInt64LE(offset);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(value);
}

export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeBigUInt64LE(BigInt(value), offset);
}

/** Iterates an extra-field block; returns a reason when it is malformed. */
export function parseExtraFields(extra: Buffer): { fields: Map<number, Buffer> } | { problem: string } {
  const fields = new Map<number, Buffer>();
  let pos = 0;
  while (pos < extra.length) {
    if (pos + EXTRA_FIELD.data > extra.length)
      return { problem: `extra field ends inside a header (${extra.length - pos} stray bytes)` };
    const headerId = extra.readUInt16LE(pos + EXTRA_FIELD.headerId);
    const dataSize = extra.readUInt16LE(pos + EXTRA_FIELD.dataSize);
    const data = pos + EXTRA_FIELD.data;
    if (data + dataSize > extra.length) {
      return {
        problem: `extra field 0x${headerId.toString(16).padStart(4, '0')} declares ${dataSize} bytes, only ${extra.length - data} remain`,
      };
    }
    if (fields.has(headerId))
      return { problem: `extra field 0x${headerId.toString(16).padStart(4, '0')} appears twice` };
    fields.set(headerId, extra.subarray(data, data + dataSize));
    pos = data + dataSize;
  }
  return { fields };
}
