import type { DirectoryEntries } from './directory.js';
import { keepLayout } from './keep-layout.js';

/**
 * Entry names by value, for duplicate detection and lookups, without a string per entry.
 *
 * Names are compared as they decode, since two byte sequences that decode alike extract to the
 * same file. A pure-ASCII name decodes to itself under either encoding, and any other name decodes
 * to a string with a non-ASCII character, so the two kinds never collide: ASCII names are hashed
 * and compared as raw bytes in the directory buffer (an open-addressing table with a per-process
 * random seed, so crafted names cannot force long probe chains), the rest by decoded string.
 */
export class NameIndex {
  private readonly slots: Int32Array;
  private readonly hashes: Int32Array;
  private readonly mask: number;
  private readonly others = new Map<string, number>();

  constructor(private readonly entries: DirectoryEntries) {
    const size = 2 ** Math.max(4, Math.ceil(Math.log2(entries.count * 2 + 1)));
    this.slots = new Int32Array(size).fill(-1);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
    keepLayout(this);
  }

  /** Every entry indexed, the first of any two with the same name kept (no checks). */
  static build(entries: DirectoryEntries): NameIndex {
    const index = new NameIndex(entries);
    for (let i = 0; i < entries.count; i++) index.add(i, index.hashOf(i));
    return index;
  }

  /** Entry i's name hash, as `add` takes it. */
  hashOf(i: number): number {
    const start = this.entries.nameStart(i);
    return asciiHash(this.entries.directory, start, start + this.entries.nameLength(i));
  }

  /**
   * Adds entry i, whose name hashes to `hash` (NON_ASCII_NAME for a name with other bytes);
   * returns the earlier entry with the same name, which stays in the index, or -1.
   */
  add(i: number, hash: number): number {
    const entries = this.entries;
    if (hash === NON_ASCII_NAME) {
      const name = entries.name(i);
      const earlier = this.others.get(name);
      if (earlier !== undefined) return earlier;
      this.others.set(name, i);
      return -1;
    }
    const cd = entries.directory;
    const start = entries.nameStart(i);
    const length = entries.nameLength(i);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const j = this.slots[slot] as number;
      if (j === -1) {
        this.slots[slot] = i;
        this.hashes[slot] = hash;
        return -1;
      }
      if (this.hashes[slot] !== hash || entries.nameLength(j) !== length) continue;
      const other = entries.nameStart(j);
      let k = 0;
      while (k < length && cd[start + k] === cd[other + k]) k++;
      if (k === length) return j;
    }
  }

  /** Index of the entry whose raw name is exactly `raw`, or -1. */
  findRaw(raw: Buffer): number {
    const hash = asciiHash(raw, 0, raw.length);
    if (hash !== NON_ASCII_NAME) {
      for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
        const j = this.slots[slot] as number;
        if (j === -1) return -1;
        if (this.hashes[slot] === hash && this.entries.nameIs(j, raw)) return j;
      }
    }
    for (let i = 0; i < this.entries.count; i++) if (this.entries.nameIs(i, raw)) return i;
    return -1;
  }

  /** Index of the entry whose decoded name is `name`, or -1. */
  find(name: string): number {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, control characters included
    if (/^[\x00-\x7f]*$/.test(name)) return this.findRaw(Buffer.from(name, 'latin1'));
    return this.others.get(name) ?? -1;
  }
}

/** A name with a byte of 0x80 or above: indexed by its decoded string. */
export const NON_ASCII_NAME = -1;
/** A name that may break a naming rule: entryNameProblem has the last word. */
export const SUSPECT_NAME = -2;

const SEED = (Math.random() * 2 ** 32) | 0;
const SLASH = 0x2f;
const DOT = 0x2e;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * One pass over a name's bytes that both hashes it and watches for what entryNameProblem
 * rejects (empty or absolute names, drive letters, NUL, backslash, empty or '..' segments):
 * SUSPECT_NAME when it sees any of that, else the hash, or NON_ASCII_NAME.
 */
export function checkedNameHash(buf: Buffer, start: number, end: number): number {
  if (end === start || (end - start >= 2 && buf[start + 1] === COLON)) return SUSPECT_NAME;
  let h = SEED;
  let high = 0;
  let segmentStart = start;
  for (let p = start; p < end; p++) {
    const byte = buf[p] as number;
    high |= byte;
    h = Math.imul(h ^ byte, 0x01000193);
    if (byte === SLASH) {
      const length = p - segmentStart;
      if (length === 0 || (length === 2 && buf[p - 1] === DOT && buf[p - 2] === DOT)) return SUSPECT_NAME;
      segmentStart = p + 1;
    } else if (byte === 0 || byte === BACKSLASH) return SUSPECT_NAME;
  }
  if (end - segmentStart === 2 && buf[end - 1] === DOT && buf[end - 2] === DOT) return SUSPECT_NAME;
  return high >= 0x80 ? NON_ASCII_NAME : mix(h);
}

/** The same hash without the checks, for names already checked or not to be. */
function asciiHash(buf: Buffer, start: number, end: number): number {
  let h = SEED;
  let high = 0;
  for (let p = start; p < end; p++) {
    const byte = buf[p] as number;
    high |= byte;
    h = Math.imul(h ^ byte, 0x01000193);
  }
  return high >= 0x80 ? NON_ASCII_NAME : mix(h);
}

/** Seeded FNV-1a's final mix, as a non-negative int32. */
function mix(value: number): number {
  let h = value ^ (value >>> 15);
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & 0x7fffffff;
}
