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
export const MAX_COMMENT = 0xffff;

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
    if (pos + 4 > extra.length)
      return { problem: `extra field ends inside a header (${extra.length - pos} stray bytes)` };
    const id = extra.readUInt16LE(pos);
    const size = extra.readUInt16LE(pos + 2);
    if (pos + 4 + size > extra.length) {
      return {
        problem: `extra field 0x${id.toString(16).padStart(4, '0')} declares ${size} bytes, only ${extra.length - pos - 4} remain`,
      };
    }
    if (fields.has(id)) return { problem: `extra field 0x${id.toString(16).padStart(4, '0')} appears twice` };
    fields.set(id, extra.subarray(pos + 4, pos + 4 + size));
    pos += 4 + size;
  }
  return { fields };
}
