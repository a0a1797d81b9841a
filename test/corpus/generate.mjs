#!/usr/bin/env node
// Writes the archive corpus that test/archive/corpus.test.ts runs through inspectArchive:
//
//   failure/<fragment>.zip   a hostile or broken archive; the rejection message must contain
//                            <fragment> (so a fragment never holds a '/')
//   success/<case>.zip       a valid archive; <case>.json beside it holds the summary fields
//                            inspect must report
//
// Deterministic: the zip writer uses fixed timestamps, and the real tools (Info-ZIP zip, the
// JDK's jar) run on files with fixed modes and mtimes in UTC. The same zlib and tools give the
// same bytes. Run from anywhere: node test/corpus/generate.mjs
// Large cases (bombs, 70,000 entries) are generated inside the tests instead of committed here.

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildZip,
  FLAG_ENCRYPTED,
  FLAG_UTF8,
  HOST_UNIX,
  layoutZip,
  unixAttributes,
} from '../helpers/zip-writer.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const failureDir = join(here, 'failure');
const successDir = join(here, 'success');
const FIXED_TIME = new Date('2020-01-01T00:00:00Z');

const MANIFEST =
  'Manifest-Version: 1.0\r\nPremain-Class: com.example.Agent\r\nCreated-By: agentpack corpus\r\n\r\n';
const SFX_STUB = '#!/bin/sh\necho self-extractor stub\nexit 0\n';
const TEXT = 'The quick brown fox jumps over the lazy dog.\n'.repeat(40);

/** A manifest and a couple of ordinary files: what most hostile cases start from. */
function ordinary() {
  return [
    { name: 'META-INF/MANIFEST.MF', data: MANIFEST },
    { name: 'com/example/Agent.class', data: TEXT },
    { name: 'README.txt', data: 'hello\n', method: 0 },
  ];
}

/** The same, with one entry changed (merged into its spec). */
function withEntry(index, change) {
  const entries = ordinary();
  entries[index] = { ...entries[index], ...change };
  return entries;
}

const failures = {
  'has an absolute name': { entries: withEntry(2, { name: '/x' }) },
  'has an absolute name (drive letter)': { entries: withEntry(2, { name: 'C:/x' }) },
  "has a '..' segment in its name": { entries: withEntry(2, { name: 'lib/../../x' }) },
  'has a backslash in its name': { entries: withEntry(2, { name: 'lib\\x.txt' }) },
  'has a NUL byte in its name': { entries: withEntry(2, { name: Buffer.from('x.txt\0.class', 'latin1') }) },
  'has an empty segment in its name': { entries: withEntry(2, { name: 'lib//x.txt' }) },
  'duplicate entry name': { entries: [...ordinary(), { name: 'README.txt', data: 'again\n', method: 0 }] },
  // The "better zip bomb": two central records, one local entry.
  'entries overlap': {
    entries: [...ordinary(), { name: 'other.class', data: TEXT, shareLocalWith: 1 }],
  },
  'bytes of data run into the central directory': {
    entries: withEntry(2, {
      name: 'README.txt',
      data: 'hello\n',
      method: 8,
      local: { compressedSize: 5000 },
      central: { compressedSize: 5000 },
    }),
  },
  'local header names it': { entries: withEntry(1, { local: { name: 'com/example/Evil.class' } }) },
  'local header says compression method': { entries: withEntry(2, { local: { method: 8 } }) },
  'uncompressed bytes, central record says': { entries: withEntry(1, { local: { uncompressedSize: 17 } }) },
  'local header and central record disagree on the data descriptor flag': {
    entries: withEntry(1, {
      descriptor: true,
      local: { flags: 0, crc: 0, compressedSize: 0, uncompressedSize: 0 },
    }),
  },
  'is encrypted': { entries: withEntry(1, { flags: FLAG_ENCRYPTED }) },
  'is a symbolic link': {
    entries: [
      ...ordinary(),
      {
        name: 'link',
        data: '/etc/passwd',
        method: 0,
        versionMadeBy: (HOST_UNIX << 8) | 30,
        externalAttributes: unixAttributes(0o120777),
      },
    ],
  },
  'uses compression method 12': {
    entries: withEntry(1, { method: 12, raw: Buffer.from('BZh91AY&SY fake bzip2') }),
  },
  'uses compression method 14': { entries: withEntry(1, { method: 14, raw: Buffer.from('fake lzma data') }) },
  'is stored but declares': { entries: withEntry(2, { central: { uncompressedSize: 60 } }) },
  'is a directory but declares': { entries: [...ordinary(), { name: 'lib/', data: 'not empty', method: 0 }] },
  'archive is truncated': {
    entries: ordinary(),
    post: (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)),
  },
  'runs past the end record': { entries: ordinary(), post: shiftEndOffset(+40) },
  'unexpected bytes between the central directory and the end record': {
    entries: ordinary(),
    betweenCentralAndEnd: 'GARBAGE',
  },
  'data was prepended without adjusting them': {
    entries: ordinary(),
    preamble: SFX_STUB,
    adjustOffsets: false,
  },
  'archive has no entries': { entries: [] },
  'unaccounted bytes between': { entries: withEntry(2, { before: 'HIDDEN PAYLOAD' }) },
  'no local header at offset': { entries: withEntry(2, { local: { signature: 0x58585858 } }) },
  'CRC-32 does not match its data': {
    entries: withEntry(1, { local: { crc: 0x12345678 }, central: { crc: 0x12345678 } }),
  },
  'inflates past its declared size': {
    entries: withEntry(1, { local: { uncompressedSize: 100 }, central: { uncompressedSize: 100 } }),
  },
  'expected 3000 bytes, got only 1800': {
    entries: withEntry(1, { local: { uncompressedSize: 3000 }, central: { uncompressedSize: 3000 } }),
  },
  'compressed data is corrupt': {
    entries: withEntry(1, { raw: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03]) }),
  },
  'data descriptor is missing or disagrees with the central record': {
    entries: withEntry(1, { descriptor: true, descriptorValues: { crc: 0xdeadbeef } }),
  },
  // 3 MiB of zeros deflate to about 3 KiB: a ratio near 1000:1, in a tiny file.
  'has a compression ratio of': {
    entries: [...ordinary(), { name: 'zeros.bin', data: Buffer.alloc(3 * 1024 * 1024) }],
  },
  'the zip64 end-of-central-directory locator is missing': {
    entries: ordinary(),
    end: { entryCount: 0xffff, entriesOnDisk: 0xffff },
  },
  'has saturated sizes or offset but no zip64 extra field': {
    entries: withEntry(1, { central: { compressedSize: 0xffffffff } }),
  },
  'has a bad signature': { entries: withEntry(1, { central: { signature: 0x02014b51 } }) },
  'zip64 end record disagrees with the classic end record': {
    entries: ordinary(),
    zip64: true,
    zip64Saturate: false,
    zip64End: { entryCount: 4 },
  },
  'multi-disk (split) archives are not supported': { entries: ordinary(), end: { disk: 1, cdDisk: 1 } },
  'not a zip archive': { raw: Buffer.from('This is a plain text file, not an archive.\n'.repeat(4)) },
};

/** Moves the end record's central-directory offset by delta (past the end record when positive). */
function shiftEndOffset(delta) {
  return (bytes, layout) => {
    const out = Buffer.from(bytes);
    out.writeUInt32LE(layout.cdOffset + delta, layout.eocdOffset + 16);
    return out;
  };
}

const UTF8_NAMES = ['données/café.txt', '日本語/説明.txt', 'emoji-😀.txt'];

/** Success cases built with the writer: [name, spec, expected summary fields]. */
const writerSuccesses = [
  [
    'directories-and-empty-files',
    {
      entries: [
        { name: 'META-INF/', method: 0 },
        { name: 'META-INF/MANIFEST.MF', data: MANIFEST },
        { name: 'lib/', method: 0 },
        { name: 'lib/empty-stored.txt', method: 0 },
        { name: 'lib/empty-deflated.txt', method: 8 },
        { name: 'lib/nested/', method: 0 },
        { name: 'lib/nested/file.txt', data: TEXT },
      ],
    },
    { entryCount: 7, zip64: false, preambleBytes: 0, manifestFirst: true, premainClass: 'com.example.Agent' },
  ],
  [
    'utf8-names-with-utf8-flag',
    {
      entries: [
        { name: 'META-INF/MANIFEST.MF', data: MANIFEST },
        ...UTF8_NAMES.map((name, i) => ({ name, data: `${name}\n`.repeat(i + 1), flags: FLAG_UTF8 })),
      ],
    },
    { entryCount: 4, zip64: false, preambleBytes: 0, manifestFirst: true, premainClass: 'com.example.Agent' },
  ],
  [
    'descriptors-without-signature',
    {
      entries: [
        { name: 'META-INF/MANIFEST.MF', data: MANIFEST, descriptor: 'bare' },
        { name: 'com/example/Agent.class', data: TEXT, descriptor: 'bare' },
        { name: 'stored.bin', data: Buffer.from([1, 2, 3, 4, 5]), method: 0, descriptor: 'bare' },
      ],
    },
    { entryCount: 3, zip64: false, preambleBytes: 0, manifestFirst: true, premainClass: 'com.example.Agent' },
  ],
  [
    'descriptors-with-signature',
    {
      entries: [
        { name: 'META-INF/MANIFEST.MF', data: MANIFEST, descriptor: true },
        { name: 'com/example/Agent.class', data: TEXT, descriptor: true },
      ],
    },
    { entryCount: 2, zip64: false, preambleBytes: 0, manifestFirst: true, premainClass: 'com.example.Agent' },
  ],
  [
    'writer-zip64-entries-and-end-records',
    {
      zip64: true,
      entries: [
        { name: 'META-INF/MANIFEST.MF', data: MANIFEST, zip64: true },
        { name: 'com/example/Agent.class', data: TEXT, zip64: true, descriptor: true },
      ],
    },
    { entryCount: 2, zip64: true, preambleBytes: 0, manifestFirst: true, premainClass: 'com.example.Agent' },
  ],
  [
    'writer-preamble-adjusted-offsets',
    {
      preamble: SFX_STUB,
      comment: 'sfx',
      entries: ordinary(),
    },
    {
      entryCount: 3,
      zip64: false,
      preambleBytes: Buffer.byteLength(SFX_STUB),
      manifestFirst: true,
      premainClass: 'com.example.Agent',
    },
  ],
];

function run(command, args, cwd, input) {
  return execFileSync(command, args, { cwd, input, env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
}

/** Writes files with fixed modes and mtimes so the tools record the same bytes every time. */
function tree(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    chmodSync(path, 0o644);
    utimesSync(path, FIXED_TIME, FIXED_TIME);
  }
}

const ZIP_FILES = {
  'app/index.js': "console.log('hello');\n".repeat(30),
  'app/lib/util.js': 'module.exports = { answer: 42 };\n',
  'app/data.bin': Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
};
const ZIP_ORDER = Object.keys(ZIP_FILES).sort();

/** Success cases made by the real tools: name -> (workDir, outPath) => expected fields. */
const toolSuccesses = {
  'jar-tool-descriptors-and-stored': (work, out) => {
    tree(work, {
      'META-INF/MANIFEST.MF': MANIFEST.replace(/\r\n/g, '\n'),
      'com/example/Agent.class': TEXT,
      'com/example/Helper.class': TEXT.toUpperCase(),
      'logo.png': Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff)),
    });
    const date = '--date=2020-01-01T00:00:00Z';
    run(
      'jar',
      [
        '--create',
        '--no-manifest',
        date,
        '--file',
        out,
        'META-INF/MANIFEST.MF',
        'com/example/Agent.class',
        'com/example/Helper.class',
      ],
      work,
    );
    run('jar', ['--update', '--no-compress', date, '--file', out, 'logo.png'], work);
    return {
      entryCount: 4,
      zip64: false,
      preambleBytes: 0,
      manifestFirst: true,
      premainClass: 'com.example.Agent',
    };
  },
  'info-zip-with-archive-comment': (work, out) => {
    tree(work, ZIP_FILES);
    run('zip', ['-X', '-q', '-9', out, ...ZIP_ORDER], work);
    run('zip', ['-q', '-z', out], work, 'Built by Info-ZIP for the agentpack corpus\n');
    return {
      entryCount: 3,
      zip64: false,
      preambleBytes: 0,
      manifestFirst: false,
      premainClass: null,
      commentBytes: 42,
    };
  },
  'info-zip-forced-zip64': (work, out) => {
    tree(work, ZIP_FILES);
    run('zip', ['-X', '-q', '-fz', out, ...ZIP_ORDER], work);
    return { entryCount: 3, zip64: true, preambleBytes: 0, manifestFirst: false, premainClass: null };
  },
  'info-zip-self-extractor-adjusted': (work, out) => {
    tree(work, ZIP_FILES);
    const inner = join(work, 'inner.zip');
    run('zip', ['-X', '-q', inner, ...ZIP_ORDER], work);
    const stub = Buffer.from('#!/bin/sh\n# self-extractor stub: unzip "$0" and run\nexit 0\n');
    writeFileSync(out, Buffer.concat([stub, readFileSync(inner)]));
    run('zip', ['-q', '-A', out], work);
    return {
      entryCount: 3,
      zip64: false,
      preambleBytes: stub.length,
      manifestFirst: false,
      premainClass: null,
    };
  },
};

function clean(dir) {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.zip') || name.endsWith('.json')) rmSync(join(dir, name));
  }
}

function writeExpected(name, fields) {
  const expected = { signatureFileCount: 0, commentBytes: 0, ...fields };
  writeFileSync(join(successDir, `${name}.json`), `${JSON.stringify(expected, null, 2)}\n`);
}

function main() {
  clean(failureDir);
  clean(successDir);
  for (const [fragment, spec] of Object.entries(failures)) {
    if (fragment.includes('/')) throw new Error(`fragment ${JSON.stringify(fragment)} must not contain '/'`);
    const bytes = spec.raw ?? layoutZip(spec).bytes;
    writeFileSync(join(failureDir, `${fragment}.zip`), bytes);
  }
  for (const [name, spec, fields] of writerSuccesses) {
    writeFileSync(join(successDir, `${name}.zip`), buildZip(spec));
    const comment = spec.comment === undefined ? 0 : Buffer.byteLength(spec.comment);
    writeExpected(name, { ...fields, commentBytes: comment });
  }
  for (const [name, make] of Object.entries(toolSuccesses)) {
    const work = mkdtempSync(join(tmpdir(), 'agentpack-corpus-'));
    try {
      const out = join(work, 'out.zip');
      const fields = make(work, out);
      writeFileSync(join(successDir, `${name}.zip`), readFileSync(out));
      writeExpected(name, fields);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  console.log(
    `wrote ${Object.keys(failures).length} failure and ${writerSuccesses.length + Object.keys(toolSuccesses).length} success cases`,
  );
}

main();
