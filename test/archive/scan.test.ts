import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectArchive } from '../../src/archive/inspect.js';
import { ArchiveError } from '../../src/common/errors.js';
import { runTool } from '../helpers/java.js';
import { buildZip, crc32, type EntrySpec, layoutZip } from '../helpers/zip-writer.mjs';
import { fixtureJar, MiB } from './support.js';

const corpus = fileURLToPath(new URL('../corpus/', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-scan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function rejection(path: string): Promise<Error | null> {
  return inspectArchive(path, { verifyData: true }).then(
    () => null,
    (error: Error) => error,
  );
}

/** Incompressible data stored as a deflated entry whose header lies about the inflated size. */
function largeDeflated(
  name: string,
  data: Buffer,
  declared: Partial<{ size: number; crc: number }>,
): EntrySpec {
  const overrides = { uncompressedSize: declared.size ?? data.length, crc: declared.crc ?? crc32(data) };
  return { name, raw: deflateRawSync(data, { level: 1 }), method: 8, local: overrides, central: overrides };
}

describe('inspectArchive reads entries in one forward pass', () => {
  it('verifies a jar-tool JAR whose data descriptors cross the read window (several MiB)', async () => {
    const tree = join(dir, 'jar-tree');
    await mkdir(join(tree, 'META-INF'), { recursive: true });
    await writeFile(join(tree, 'META-INF/MANIFEST.MF'), 'Manifest-Version: 1.0\nPremain-Class: a.B\n');
    const names = ['r1.bin', 'r2.bin', 'r3.bin', 'r4.bin', 'text.txt'];
    for (const name of names.slice(0, 4)) await writeFile(join(tree, name), randomBytes(700_000));
    await writeFile(
      join(tree, 'text.txt'),
      Array.from({ length: 150_000 }, (_, i) => `line ${i}\n`).join(''),
    );
    const jar = join(dir, 'big-descriptors.jar');
    const made = await runTool(
      'jar',
      ['--create', '--no-manifest', '--file', jar, 'META-INF/MANIFEST.MF', ...names],
      {
        cwd: tree,
      },
    );
    expect(made.code).toBe(0);

    const { summary } = await inspectArchive(jar, { verifyData: true });
    expect(summary.entryCount).toBe(6);
    expect(summary.dataVerified).toBe(true);
    expect(summary.premainClass).toBe('a.B');
  });

  it('verifies entries with and without descriptor signatures on both sides of each window boundary', async () => {
    const entries: EntrySpec[] = [];
    for (let i = 0; i < 12; i++) {
      const data = randomBytes(300_000 + i * 7_919);
      entries.push({
        name: `e${i}.bin`,
        data,
        method: i % 3 === 0 ? 0 : 8,
        descriptor: i % 2 === 0 ? true : 'bare',
      });
    }
    const path = await write('descriptors-everywhere.zip', buildZip({ entries }));
    const { summary } = await inspectArchive(path, { verifyData: true });
    expect(summary.entryCount).toBe(12);
  });

  it('hands the sink exactly the bytes before the central directory, in order', async () => {
    const chunks: Buffer[] = [];
    const { structure } = await inspectArchive(fixtureJar, {
      sink: (chunk) => {
        chunks.push(Buffer.from(chunk));
      },
    });
    const file = await readFile(fixtureJar);
    expect(Buffer.concat(chunks).equals(file.subarray(0, structure.centralDirectoryOffset))).toBe(true);
  });

  it('checks only headers when verifyData is false, and says so in the summary', async () => {
    const path = join(corpus, 'failure', 'CRC-32 does not match its data.zip');
    const { summary } = await inspectArchive(path, { verifyData: false });
    expect(summary.dataVerified).toBe(false);
    expect(await rejection(path)).toBeInstanceOf(ArchiveError);
  });
});

describe('declared sizes are enforced while inflating', () => {
  it('rejects a deflated entry declared empty that inflates to one byte', async () => {
    const path = await write(
      'declared-empty.zip',
      buildZip({
        entries: [
          {
            name: 'a.txt',
            raw: deflateRawSync(Buffer.from('x')),
            method: 8,
            local: { uncompressedSize: 0, crc: 0 },
            central: { uncompressedSize: 0, crc: 0 },
          },
        ],
      }),
    );
    expect((await rejection(path))?.message).toBe(
      'entry "a.txt": inflates past its declared size of 0 bytes',
    );
  });

  // Entries above 4 MiB compressed are streamed through yauzl instead of inflated in memory.
  const big = randomBytes(5 * MiB);

  it('rejects a streamed entry that inflates past its declared size', async () => {
    const path = await write(
      'streamed-longer.zip',
      buildZip({ entries: [largeDeflated('big.bin', big, { size: big.length - 1000 })] }),
    );
    expect((await rejection(path))?.message).toContain(
      `entry "big.bin": inflates past its declared size of ${big.length - 1000} bytes`,
    );
  });

  it('rejects a streamed entry that inflates to fewer bytes than declared', async () => {
    const path = await write(
      'streamed-shorter.zip',
      buildZip({ entries: [largeDeflated('big.bin', big, { size: big.length + 1000 })] }),
    );
    expect((await rejection(path))?.message).toContain(
      `entry "big.bin": inflates to fewer bytes than its declared ${big.length + 1000}`,
    );
  });

  it('rejects a streamed entry whose CRC-32 does not match', async () => {
    const path = await write(
      'streamed-crc.zip',
      buildZip({ entries: [largeDeflated('big.bin', big, { crc: (crc32(big) ^ 1) >>> 0 })] }),
    );
    expect((await rejection(path))?.message).toBe('entry "big.bin": CRC-32 does not match its data');
  });

  it('rejects a large stored entry whose CRC-32 does not match', async () => {
    const path = await write(
      'stored-crc.zip',
      buildZip({
        entries: [{ name: 'big.bin', data: big, method: 0, central: { crc: 1 }, local: { crc: 1 } }],
      }),
    );
    expect((await rejection(path))?.message).toBe('entry "big.bin": CRC-32 does not match its data');
  });
});

describe('damaged archives never crash the reader', () => {
  const cases = [
    'jar-tool-descriptors-and-stored.zip',
    'info-zip-forced-zip64.zip',
    'writer-preamble-adjusted-offsets.zip',
  ];

  it.each(cases)('rejects every proper prefix of %s with an ArchiveError', async (file) => {
    const whole = await readFile(join(corpus, 'success', file));
    const path = join(dir, `prefix-${file}`);
    for (let length = 0; length < whole.length; length++) {
      await writeFile(path, whole.subarray(0, length));
      const error = await rejection(path);
      expect(error, `prefix of ${length} bytes`).toBeInstanceOf(ArchiveError);
    }
  });

  it.each(cases)(
    'answers every single-byte corruption of %s with acceptance or an ArchiveError',
    async (file) => {
      const whole = await readFile(join(corpus, 'success', file));
      const path = join(dir, `flip-${file}`);
      let rejected = 0;
      for (let i = 0; i < whole.length; i++) {
        const damaged = Buffer.from(whole);
        damaged[i] = (damaged[i] as number) ^ 0xff;
        await writeFile(path, damaged);
        const error = await rejection(path);
        if (error !== null) {
          expect(error, `byte ${i} flipped: ${error.message}`).toBeInstanceOf(ArchiveError);
          rejected++;
        }
      }
      // Most bytes are covered by a check (names, sizes, CRCs, offsets); date fields are not.
      expect(rejected).toBeGreaterThan(whole.length / 2);
    },
  );

  it('reports where the layout went when the writer is asked (sanity check of the test tool)', () => {
    const { bytes, layout } = layoutZip({ entries: [{ name: 'a', data: 'abc', method: 0 }] });
    expect(bytes.readUInt32LE(layout.cdOffset)).toBe(0x02014b50);
    expect(bytes.subarray(layout.entries[0]?.dataOffset, layout.entries[0]?.dataEnd).toString()).toBe('abc');
  });
});
