import { ArchiveError } from '../common/errors.js';
import {
  CENTRAL,
  CENTRAL_HEADER_SIZE,
  FLAG_UTF8,
  parseExtraFields,
  readU64,
  SIG_CENTRAL,
  U16_MAX,
  U32_MAX,
  u16,
  u32,
  ZIP64_EXTRA_ID,
} from './format.js';
import { keepLayout } from './keep-layout.js';
import { NameIndex } from './name-index.js';
import { decodeEntryName, displayName } from './names.js';

/** One central-directory record as an object (see DirectoryEntries.record). */
export interface CentralRecord {
  readonly index: number;
  readonly nameRaw: Buffer;
  readonly name: string;
  readonly versionMadeBy: number;
  readonly versionNeeded: number;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localOffset: number;
  readonly externalAttributes: number;
  /** The sizes came from a zip64 extra field, so a data descriptor holds 8-byte sizes. */
  readonly zip64: boolean;
  /** Offset of the record inside the central directory buffer, and its length. */
  readonly recordStart: number;
  readonly recordLength: number;
}

/**
 * The central directory, parsed into columns: the fields that zip64 can override are kept in
 * typed arrays, the others are read from the directory's bytes when asked for. Checking and
 * splicing 30,000 entries then allocates no object and decodes no name; `record(i)` builds the
 * object form for the few callers that want one. The per-entry loops read the columns and the
 * bytes directly: in a one-shot CLI they mostly run before the JIT has optimized anything, where
 * every accessor call costs.
 */
export class DirectoryEntries {
  readonly count: number;
  /** Per entry, in directory order: where its record starts in `directory`. */
  readonly starts: Uint32Array;
  /** Per entry: local header offset and sizes, zip64 values applied. */
  readonly offsets: Float64Array;
  readonly compressed: Float64Array;
  readonly uncompressed: Float64Array;
  private readonly wide: Uint8Array;
  private objects: readonly CentralRecord[] | undefined;
  private index: NameIndex | undefined;

  constructor(
    readonly directory: Buffer,
    count: number,
  ) {
    if (directory.length > U32_MAX)
      throw new ArchiveError(`central directory of ${directory.length} bytes is too large`);
    this.count = count;
    this.starts = new Uint32Array(count);
    this.offsets = new Float64Array(count);
    this.compressed = new Float64Array(count);
    this.uncompressed = new Float64Array(count);
    this.wide = new Uint8Array(count);
    this.parse();
    keepLayout(this);
  }

  private parse(): void {
    const cd = this.directory;
    const count = this.count;
    const size = cd.length;
    let pos = 0;
    for (let i = 0; i < count; i++) {
      if (pos + CENTRAL_HEADER_SIZE > size)
        throw new ArchiveError(`central directory ends inside record ${i + 1} of ${count}`);
      if (u32(cd, pos) !== SIG_CENTRAL) {
        throw new ArchiveError(
          `central directory record ${i + 1} of ${count} has a bad signature at offset ${pos}`,
        );
      }
      const length = recordLengthAt(cd, pos);
      if (pos + length > size)
        throw new ArchiveError(`central directory record ${i + 1} runs past the end of the directory`);
      this.starts[i] = pos;
      const compressed = u32(cd, pos + CENTRAL.compressedSize);
      const uncompressed = u32(cd, pos + CENTRAL.uncompressedSize);
      const offset = u32(cd, pos + CENTRAL.relativeOffsetOfLocalHeader);
      const disk = u16(cd, pos + CENTRAL.diskNumberStart);
      if (compressed === U32_MAX || uncompressed === U32_MAX || offset === U32_MAX || disk === U16_MAX) {
        this.applyZip64(i, [
          uncompressed === U32_MAX,
          compressed === U32_MAX,
          offset === U32_MAX,
          disk === U16_MAX,
        ]);
      } else {
        if (disk !== 0) throw new ArchiveError('multi-disk (split) archives are not supported');
        this.compressed[i] = compressed;
        this.uncompressed[i] = uncompressed;
        this.offsets[i] = offset;
      }
      pos += length;
    }
    if (pos !== size)
      throw new ArchiveError(`central directory has ${size - pos} bytes after its last record`);
  }

  /** Reads the zip64 extra's 8-byte values in spec order, only for the fields that are saturated. */
  private applyZip64(i: number, needs: readonly boolean[]): void {
    const cd = this.directory;
    const at = this.start(i);
    const start = this.nameEnd(i);
    const parsed = parseExtraFields(cd.subarray(start, start + u16(cd, at + CENTRAL.extraFieldLength)));
    const name = displayName(this.name(i));
    if ('problem' in parsed) throw new ArchiveError(`entry ${name}: ${parsed.problem}`);
    const field = parsed.fields.get(ZIP64_EXTRA_ID);
    if (field === undefined)
      throw new ArchiveError(`entry ${name} has saturated sizes or offset but no zip64 extra field`);
    // In the order the zip64 field holds them, each only when saturated (see ZIP64_EXTRA).
    const values = [
      u32(cd, at + CENTRAL.uncompressedSize),
      u32(cd, at + CENTRAL.compressedSize),
      u32(cd, at + CENTRAL.relativeOffsetOfLocalHeader),
    ];
    let pos = 0;
    for (let k = 0; k < 3; k++) {
      if (!needs[k]) continue;
      if (pos + 8 > field.length) throw new ArchiveError(`entry ${name}: zip64 extra field is too short`);
      const value = readU64(field, pos);
      if (value === null) throw new ArchiveError(`entry ${name}: zip64 size or offset is beyond 2^53`);
      values[k] = value;
      pos += 8;
    }
    // Then the disk number start, in 4 bytes.
    if (needs[3] && (pos + 4 > field.length || field.readUInt32LE(pos) !== 0))
      throw new ArchiveError('multi-disk (split) archives are not supported');
    this.uncompressed[i] = values[0] as number;
    this.compressed[i] = values[1] as number;
    this.offsets[i] = values[2] as number;
    this.wide[i] = 1;
  }

  /** Offset of entry i's record in the directory buffer. */
  start(i: number): number {
    return this.starts[i] as number;
  }

  recordLength(i: number): number {
    return recordLengthAt(this.directory, this.start(i));
  }

  /** The raw name is directory[nameStart(i), nameEnd(i)). */
  nameStart(i: number): number {
    return this.start(i) + CENTRAL_HEADER_SIZE;
  }

  nameLength(i: number): number {
    return u16(this.directory, this.start(i) + CENTRAL.fileNameLength);
  }

  nameEnd(i: number): number {
    return this.nameStart(i) + this.nameLength(i);
  }

  versionMadeBy(i: number): number {
    return u16(this.directory, this.start(i) + CENTRAL.versionMadeBy);
  }

  flags(i: number): number {
    return u16(this.directory, this.start(i) + CENTRAL.generalPurposeBitFlag);
  }

  method(i: number): number {
    return u16(this.directory, this.start(i) + CENTRAL.compressionMethod);
  }

  crc32(i: number): number {
    return u32(this.directory, this.start(i) + CENTRAL.crc32);
  }

  externalAttributes(i: number): number {
    return u32(this.directory, this.start(i) + CENTRAL.externalFileAttributes);
  }

  compressedSize(i: number): number {
    return this.compressed[i] as number;
  }

  uncompressedSize(i: number): number {
    return this.uncompressed[i] as number;
  }

  localOffset(i: number): number {
    return this.offsets[i] as number;
  }

  /** Whether the sizes came from a zip64 extra field (a data descriptor then holds 8-byte sizes). */
  zip64(i: number): boolean {
    return this.wide[i] === 1;
  }

  /** The decoded name: UTF-8 when the entry says so, otherwise byte for byte. */
  name(i: number): string {
    const raw = this.directory.subarray(this.nameStart(i), this.nameEnd(i));
    return decodeEntryName(raw, (this.flags(i) & FLAG_UTF8) !== 0);
  }

  /** Whether entry i's raw name is exactly these bytes. */
  nameIs(i: number, raw: Buffer): boolean {
    const length = raw.length;
    if (this.nameLength(i) !== length) return false;
    const cd = this.directory;
    const start = this.nameStart(i);
    for (let k = 0; k < length; k++) if (cd[start + k] !== raw[k]) return false;
    return true;
  }

  record(i: number): CentralRecord {
    const at = this.start(i);
    const cd = this.directory;
    return {
      index: i,
      nameRaw: cd.subarray(this.nameStart(i), this.nameEnd(i)),
      name: this.name(i),
      versionMadeBy: this.versionMadeBy(i),
      versionNeeded: u16(cd, at + CENTRAL.versionNeededToExtract),
      flags: this.flags(i),
      method: this.method(i),
      crc32: this.crc32(i),
      compressedSize: this.compressedSize(i),
      uncompressedSize: this.uncompressedSize(i),
      localOffset: this.localOffset(i),
      externalAttributes: this.externalAttributes(i),
      zip64: this.zip64(i),
      recordStart: at,
      recordLength: this.recordLength(i),
    };
  }

  /** The entries by name: the one checkNames built, else built now (unchecked, first of duplicates kept). */
  nameIndex(): NameIndex {
    this.index ??= NameIndex.build(this);
    return this.index;
  }

  adoptNameIndex(index: NameIndex): void {
    this.index = index;
  }

  /** Every entry as an object, in directory order (built once, on first use). */
  records(): readonly CentralRecord[] {
    this.objects ??= Object.freeze(Array.from({ length: this.count }, (_, i) => this.record(i)));
    return this.objects;
  }
}

/** A central record's length: the fixed part, then its name, extra field and comment. */
function recordLengthAt(cd: Buffer, at: number): number {
  return (
    CENTRAL_HEADER_SIZE +
    u16(cd, at + CENTRAL.fileNameLength) +
    u16(cd, at + CENTRAL.extraFieldLength) +
    u16(cd, at + CENTRAL.fileCommentLength)
  );
}
