import { crc32 } from 'node:zlib';
import { customAlphabet } from 'nanoid';

/** Digits, then upper case, then lower case: the order the checksum encoding relies on. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters from the CSPRNG, without modulo bias (nanoid rejects out-of-range bytes). */
export function randomBase62(length: number): string {
  let generate = generators.get(length);
  if (generate === undefined) {
    generate = customAlphabet(BASE62, length);
    generators.set(length, generate);
  }
  return generate();
}

const generators = new Map<number, () => string>();

/** A non-negative integer below 2^53 in base62, left-padded with '0' to `width`. */
export function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  do {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(width, '0');
}

/** CRC32 of the UTF-8 text as 6 base62 characters (62^6 > 2^32). */
export function crc32Base62(text: string): string {
  return toBase62(crc32(text), 6);
}
