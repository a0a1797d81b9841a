// A tiny zip builder for tests, with full control over every field, so hostile archives can be
// crafted byte by byte. Deterministic: fixed timestamps, no randomness, entries in the order
// given. It follows APPNOTE 6.3 by default and breaks it exactly where a spec asks it to.
//
//   import { buildZip, layoutZip } from '../helpers/zip-writer.mjs';
//   const bytes = buildZip({ entries: [{ name: 'a.txt', data: 'hello' }], comment: 'hi' });
//
// See zip-writer.d.mts for every option.

import { deflateRawSync, crc32 as zlibCrc32 } from 'node:zlib';

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_DESCRIPTOR = 0x08074b50;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DESCRIPTOR = 0x0008;
export const FLAG_UTF8 = 0x0800;

export const HOST_DOS = 0;
export const HOST_UNIX = 3;

/** 2020-01-01 00:00:00 in MS-DOS format. */
export const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;
export const DOS_TIME = 0;

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** Unix mode bits as they sit in the upper half of the external attributes. */
export function unixAttributes(mode) {
  return ((mode & 0xffff) << 16) >>> 0;
}

export function crc32(data) {
  return zlibCrc32(toBuffer(data));
}

/** Raw deflate at level 9: the same zlib gives the same bytes. */
export function deflate(data) {
  return deflateRawSync(toBuffer(data), { level: 9 });
}

/** A zip64 extended-information extra field holding the given 8-byte values, in order. */
export function zip64Extra(values) {
  const field = Buffer.alloc(4 + 8 * values.length);
  field.writeUInt16LE(0x0001, 0);
  field.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => {
    field.writeBigUInt64LE(BigInt(value), 4 + 8 * i);
  });
  return field;
}

/** Any extra field: a 2-byte id, a 2-byte length, the data. */
export function extraField(id, data) {
  const body = toBuffer(data);
  const field = Buffer.alloc(4 + body.length);
  field.writeUInt16LE(id, 0);
  field.writeUInt16LE(body.length, 2);
  body.copy(field, 4);
  return field;
}

function toBuffer(value) {
  if (value === undefined || value === null) return Buffer.alloc(0);
  return Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
}

function pick(override, value) {
  return override === undefined ? value : override;
}

/** What one entry writes, computed before any offset is known. */
function prepare(spec) {
  const name = toBuffer(spec.name);
  const isDirectory = name.length > 0 && name[name.length - 1] === 0x2f;
  const content = toBuffer(spec.data);
  const method = pick(spec.method, content.length === 0 ? 0 : 8);
  let stored = spec.raw === undefined ? undefined : toBuffer(spec.raw);
  if (stored === undefined) stored = method === 8 ? deflate(content) : content;
  const descriptor = spec.descriptor === true ? 'signature' : spec.descriptor || false;
  const flags = pick(spec.flags, 0) | (descriptor ? FLAG_DESCRIPTOR : 0);
  const zip64 = spec.zip64 === true;
  const defaultMode = isDirectory ? 0o40755 : 0o100644;
  return {
    spec,
    name,
    content,
    method,
    stored,
    descriptor,
    flags,
    zip64,
    crc: crc32(content),
    versionMadeBy: pick(spec.versionMadeBy, (HOST_UNIX << 8) | 20),
    versionNeeded: pick(spec.versionNeeded, zip64 ? 45 : 20),
    externalAttributes: pick(
      spec.externalAttributes,
      (unixAttributes(defaultMode) | (isDirectory ? 0x10 : 0)) >>> 0,
    ),
    time: pick(spec.time, DOS_TIME),
    date: pick(spec.date, DOS_DATE),
  };
}

function localHeader(e) {
  const o = e.spec.local ?? {};
  const name = o.name === undefined ? e.name : toBuffer(o.name);
  const deferred = e.descriptor !== false;
  let crc = deferred ? 0 : e.crc;
  let compressed = deferred ? 0 : e.stored.length;
  let uncompressed = deferred ? 0 : e.content.length;
  let extra = Buffer.concat([toBuffer(e.spec.extra), toBuffer(e.spec.localExtra)]);
  if (e.zip64) {
    extra = Buffer.concat([zip64Extra([uncompressed, compressed]), extra]);
    compressed = U32_MAX;
    uncompressed = U32_MAX;
  }
  crc = pick(o.crc, crc);
  compressed = pick(o.compressedSize, compressed);
  uncompressed = pick(o.uncompressedSize, uncompressed);
  extra = o.extra === undefined ? extra : toBuffer(o.extra);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(pick(o.signature, SIG_LOCAL), 0);
  header.writeUInt16LE(pick(o.versionNeeded, e.versionNeeded), 4);
  header.writeUInt16LE(pick(o.flags, e.flags), 6);
  header.writeUInt16LE(pick(o.method, e.method), 8);
  header.writeUInt16LE(e.time, 10);
  header.writeUInt16LE(e.date, 12);
  header.writeUInt32LE(crc >>> 0, 14);
  header.writeUInt32LE(compressed, 18);
  header.writeUInt32LE(uncompressed, 22);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, name, extra]);
}

function dataDescriptor(e) {
  if (e.descriptor === false) return Buffer.alloc(0);
  const o = e.spec.descriptorValues ?? {};
  const crc = pick(o.crc, e.crc);
  const compressed = pick(o.compressedSize, e.stored.length);
  const uncompressed = pick(o.uncompressedSize, e.content.length);
  const width = e.zip64 ? 8 : 4;
  const body = Buffer.alloc(4 + 2 * width);
  body.writeUInt32LE(crc >>> 0, 0);
  if (e.zip64) {
    body.writeBigUInt64LE(BigInt(compressed), 4);
    body.writeBigUInt64LE(BigInt(uncompressed), 12);
  } else {
    body.writeUInt32LE(compressed, 4);
    body.writeUInt32LE(uncompressed, 8);
  }
  if (e.descriptor === 'bare') return body;
  const signature = Buffer.alloc(4);
  signature.writeUInt32LE(SIG_DESCRIPTOR, 0);
  return Buffer.concat([signature, body]);
}

function centralRecord(e, offset) {
  const o = e.spec.central ?? {};
  const name = o.name === undefined ? e.name : toBuffer(o.name);
  let compressed = e.stored.length;
  let uncompressed = e.content.length;
  let localOffset = pick(o.offset, offset);
  let extra = Buffer.concat([toBuffer(e.spec.extra), toBuffer(e.spec.centralExtra)]);
  const farOffset = localOffset >= U32_MAX;
  if (e.zip64 || farOffset) {
    const values = e.zip64 ? [uncompressed, compressed] : [];
    if (farOffset) values.push(localOffset);
    extra = Buffer.concat([zip64Extra(values), extra]);
    if (e.zip64) {
      compressed = U32_MAX;
      uncompressed = U32_MAX;
    }
    if (farOffset) localOffset = U32_MAX;
  }
  compressed = pick(o.compressedSize, compressed);
  uncompressed = pick(o.uncompressedSize, uncompressed);
  extra = o.extra === undefined ? extra : toBuffer(o.extra);
  const comment = toBuffer(e.spec.comment);
  const record = Buffer.alloc(46);
  record.writeUInt32LE(pick(o.signature, SIG_CENTRAL), 0);
  record.writeUInt16LE(pick(o.versionMadeBy, e.versionMadeBy), 4);
  record.writeUInt16LE(pick(o.versionNeeded, e.versionNeeded), 6);
  record.writeUInt16LE(pick(o.flags, e.flags), 8);
  record.writeUInt16LE(pick(o.method, e.method), 10);
  record.writeUInt16LE(e.time, 12);
  record.writeUInt16LE(e.date, 14);
  record.writeUInt32LE(pick(o.crc, e.crc) >>> 0, 16);
  record.writeUInt32LE(compressed, 20);
  record.writeUInt32LE(uncompressed, 24);
  record.writeUInt16LE(name.length, 28);
  record.writeUInt16LE(extra.length, 30);
  record.writeUInt16LE(comment.length, 32);
  record.writeUInt16LE(pick(o.disk, 0), 34);
  record.writeUInt16LE(0, 36);
  record.writeUInt32LE(pick(o.externalAttributes, e.externalAttributes) >>> 0, 38);
  record.writeUInt32LE(localOffset, 42);
  return Buffer.concat([record, name, extra, comment]);
}

function endRecords(options, count, cdOffset, cdSize, zip64EndOffset) {
  const o = options.end ?? {};
  const zip64 = zip64EndOffset !== null;
  const comment = toBuffer(options.comment);
  const parts = [];
  if (zip64) {
    const z = options.zip64End ?? {};
    const record = Buffer.alloc(56);
    record.writeUInt32LE(SIG_ZIP64_EOCD, 0);
    record.writeBigUInt64LE(BigInt(pick(z.recordSize, 44)), 4);
    record.writeUInt16LE((HOST_UNIX << 8) | 45, 12);
    record.writeUInt16LE(45, 14);
    record.writeUInt32LE(0, 16);
    record.writeUInt32LE(0, 20);
    record.writeBigUInt64LE(BigInt(pick(z.entriesOnDisk, pick(z.entryCount, count))), 24);
    record.writeBigUInt64LE(BigInt(pick(z.entryCount, count)), 32);
    record.writeBigUInt64LE(BigInt(pick(z.cdSize, cdSize)), 40);
    record.writeBigUInt64LE(BigInt(pick(z.cdOffset, cdOffset)), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(SIG_ZIP64_LOCATOR, 0);
    locator.writeUInt32LE(0, 4);
    locator.writeBigUInt64LE(BigInt(pick(z.locatorOffset, zip64EndOffset)), 8);
    locator.writeUInt32LE(1, 16);
    parts.push(record, locator);
  }
  const saturate = options.zip64Saturate ?? zip64;
  const count16 = saturate || count >= U16_MAX ? U16_MAX : count;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(SIG_EOCD, 0);
  eocd.writeUInt16LE(pick(o.disk, 0), 4);
  eocd.writeUInt16LE(pick(o.cdDisk, 0), 6);
  eocd.writeUInt16LE(pick(o.entriesOnDisk, pick(o.entryCount, count16)), 8);
  eocd.writeUInt16LE(pick(o.entryCount, count16), 10);
  eocd.writeUInt32LE(pick(o.cdSize, saturate || cdSize >= U32_MAX ? U32_MAX : cdSize), 12);
  eocd.writeUInt32LE(pick(o.cdOffset, saturate || cdOffset >= U32_MAX ? U32_MAX : cdOffset), 16);
  eocd.writeUInt16LE(pick(o.commentLength, comment.length), 20);
  parts.push(eocd, comment);
  return Buffer.concat(parts);
}

/**
 * Builds the archive and reports where everything went. Offsets in the layout are file offsets
 * (the preamble included); `offsetBase` is what was subtracted from them in the headers.
 */
export function layoutZip(options) {
  const entries = (options.entries ?? []).map(prepare);
  const preamble = toBuffer(options.preamble);
  const offsetBase = options.adjustOffsets === false ? preamble.length : 0;
  const parts = [preamble];
  let position = preamble.length;
  const push = (buf) => {
    parts.push(buf);
    position += buf.length;
  };
  const placed = [];
  for (const e of entries) {
    if (e.spec.before !== undefined) push(toBuffer(e.spec.before));
    if (e.spec.shareLocalWith !== undefined) {
      const shared = placed[e.spec.shareLocalWith];
      if (shared === undefined)
        throw new Error(`shareLocalWith ${e.spec.shareLocalWith} must name an earlier entry`);
      placed.push({ ...shared, shared: true, e });
      continue;
    }
    const localOffset = position;
    push(localHeader(e));
    const dataOffset = position;
    push(e.stored);
    const dataEnd = position;
    push(dataDescriptor(e));
    const end = position;
    if (e.spec.after !== undefined) push(toBuffer(e.spec.after));
    placed.push({ e, localOffset, dataOffset, dataEnd, end, shared: false });
  }
  const cdOffset = position;
  const layoutEntries = [];
  let count = 0;
  for (const p of placed) {
    const entryLayout = {
      localOffset: p.localOffset,
      dataOffset: p.dataOffset,
      dataEnd: p.dataEnd,
      end: p.end,
    };
    if (p.e.spec.noCentral === true) {
      layoutEntries.push({ ...entryLayout, centralOffset: null, centralLength: 0 });
      continue;
    }
    const record = centralRecord(p.e, p.localOffset - offsetBase);
    layoutEntries.push({ ...entryLayout, centralOffset: position, centralLength: record.length });
    push(record);
    count += 1;
  }
  const cdSize = position - cdOffset;
  if (options.betweenCentralAndEnd !== undefined) push(toBuffer(options.betweenCentralAndEnd));
  const zip64 = options.zip64 === true || count >= U16_MAX || cdOffset - offsetBase >= U32_MAX;
  const zip64EndOffset = zip64 ? position - offsetBase : null;
  const zip64EndFileOffset = zip64 ? position : null;
  const ends = endRecords(options, count, cdOffset - offsetBase, cdSize, zip64EndOffset);
  const eocdOffset = position + (zip64 ? 76 : 0);
  push(ends);
  const layout = {
    entries: layoutEntries,
    cdOffset,
    cdSize,
    zip64EndOffset: zip64EndFileOffset,
    eocdOffset,
    size: position,
  };
  let bytes = Buffer.concat(parts);
  if (typeof options.post === 'function') bytes = options.post(bytes, layout);
  return { bytes, layout };
}

/** Builds the archive; see layoutZip for where things went. */
export function buildZip(options) {
  return layoutZip(options).bytes;
}
