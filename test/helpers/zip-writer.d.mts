/** Typings for test/helpers/zip-writer.mjs, a zip builder for crafting test archives. */

export declare const SIG_LOCAL: number;
export declare const SIG_CENTRAL: number;
export declare const SIG_EOCD: number;
export declare const SIG_ZIP64_EOCD: number;
export declare const SIG_ZIP64_LOCATOR: number;
export declare const SIG_DESCRIPTOR: number;
export declare const FLAG_ENCRYPTED: number;
export declare const FLAG_DESCRIPTOR: number;
export declare const FLAG_UTF8: number;
export declare const HOST_DOS: number;
export declare const HOST_UNIX: number;
export declare const DOS_DATE: number;
export declare const DOS_TIME: number;

export type Bytes = Buffer | string;

/** Fields written into the local header instead of the computed ones. */
export interface LocalOverrides {
  signature?: number;
  name?: Bytes;
  method?: number;
  flags?: number;
  crc?: number;
  compressedSize?: number;
  uncompressedSize?: number;
  versionNeeded?: number;
  /** Replaces the whole local extra block. */
  extra?: Bytes;
}

/** Fields written into the central record instead of the computed ones. */
export interface CentralOverrides extends LocalOverrides {
  /** Local header offset as written (before any zip64 saturation). */
  offset?: number;
  externalAttributes?: number;
  versionMadeBy?: number;
  disk?: number;
}

export interface EntrySpec {
  /** A string is written as UTF-8; a Buffer as is. */
  name: Bytes;
  /** The uncompressed content (default empty). */
  data?: Bytes;
  /** 0 stored, 8 deflate (default when there is data), anything else written as given. */
  method?: number;
  /** Exact bytes to write as the entry's data (default: data, deflated when method is 8). */
  raw?: Bytes;
  /** General-purpose flags; the descriptor flag is added when `descriptor` is set. */
  flags?: number;
  versionMadeBy?: number;
  versionNeeded?: number;
  externalAttributes?: number;
  time?: number;
  date?: number;
  /** A data descriptor after the data: true/'signature' with its signature, 'bare' without. */
  descriptor?: boolean | 'signature' | 'bare';
  /** Values written into the descriptor instead of the real ones. */
  descriptorValues?: { crc?: number; compressedSize?: number; uncompressedSize?: number };
  /** Saturated sizes with a zip64 extra in both headers, 8-byte sizes in the descriptor. */
  zip64?: boolean;
  /** Extra-field bytes in both headers; localExtra/centralExtra in one only. */
  extra?: Bytes;
  localExtra?: Bytes;
  centralExtra?: Bytes;
  local?: LocalOverrides;
  central?: CentralOverrides;
  /** Entry comment (central record only). */
  comment?: Bytes;
  /** Bytes written right before this entry's local header, or right after its descriptor. */
  before?: Bytes;
  after?: Bytes;
  /** Writes no local entry: the central record points at entry N's local header. */
  shareLocalWith?: number;
  /** Writes the local entry but no central record. */
  noCentral?: boolean;
}

export interface EndOverrides {
  disk?: number;
  cdDisk?: number;
  entriesOnDisk?: number;
  entryCount?: number;
  cdSize?: number;
  cdOffset?: number;
  commentLength?: number;
}

export interface Zip64EndOverrides {
  recordSize?: number;
  entriesOnDisk?: number;
  entryCount?: number;
  cdSize?: number;
  cdOffset?: number;
  /** What the locator says about where the zip64 end record is. */
  locatorOffset?: number;
}

export interface EntryLayout {
  /** File offsets; a shared entry repeats the one it shares. */
  localOffset: number;
  dataOffset: number;
  dataEnd: number;
  /** After the data descriptor. */
  end: number;
  /** Where its central record is, or null when it has none. */
  centralOffset: number | null;
  centralLength: number;
}

export interface ZipLayout {
  entries: EntryLayout[];
  cdOffset: number;
  cdSize: number;
  zip64EndOffset: number | null;
  eocdOffset: number;
  size: number;
}

export interface ZipSpec {
  entries?: EntrySpec[];
  /** Archive comment. */
  comment?: Bytes;
  /** Bytes before the first entry (a self-extractor stub). */
  preamble?: Bytes;
  /** Whether offsets count the preamble (as `zip -A` makes them); default true. */
  adjustOffsets?: boolean;
  /** Writes zip64 end records even when nothing needs them (automatic from 65,535 entries). */
  zip64?: boolean;
  /** Whether the classic end record saturates its fields when zip64 records are written (default: yes). */
  zip64Saturate?: boolean;
  /** Bytes between the central directory and the end records. */
  betweenCentralAndEnd?: Bytes;
  end?: EndOverrides;
  zip64End?: Zip64EndOverrides;
  /** Last word on the bytes: receives the archive and its layout, returns what to keep. */
  post?: (bytes: Buffer, layout: ZipLayout) => Buffer;
}

export declare function buildZip(spec: ZipSpec): Buffer;
export declare function layoutZip(spec: ZipSpec): { bytes: Buffer; layout: ZipLayout };
export declare function crc32(data: Bytes): number;
export declare function deflate(data: Bytes): Buffer;
export declare function zip64Extra(values: readonly number[]): Buffer;
export declare function extraField(id: number, data: Bytes): Buffer;
export declare function unixAttributes(mode: number): number;
