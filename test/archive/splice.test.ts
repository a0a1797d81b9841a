/**
 * The splice writer, against the "Injecting" list: byte-identical originals, replacement,
 * manifest first, comment kept, zip64, determinism, streaming, and real readers (Info-ZIP, the
 * JDK's jar/JarFile/JarInputStream/jarsigner, the fixture agent under -javaagent).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/archive/bundle.js';
import { inspectArchive } from '../../src/archive/inspect.js';
import { prepareBase, spliceBundle } from '../../src/archive/prepared.js';
import { buildTail } from '../../src/archive/splice.js';
import { ArchiveError, UsageError } from '../../src/common/errors.js';
import { SECRET_PARTS } from '../fixtures/keys.js';
import { requireJava, runJavaAgent, runTool, signJar, verifyJar } from '../helpers/java.js';
import { buildZip, type EntrySpec, FLAG_UTF8 } from '../helpers/zip-writer.mjs';
import {
  fixtureJar,
  javaConfig,
  javaView,
  MiB,
  peakRss,
  readDirectory,
  rssGrowth,
  zipinfoNames,
} from './support.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const corpus = fileURLToPath(new URL('../corpus/', import.meta.url));
const TARGET = 'agentpack.properties';

let dir: string;
let config: Buffer;

beforeAll(async () => {
  await requireJava();
  dir = await mkdtemp(join(tmpdir(), 'agentpack-splice-'));
  config = await javaConfig();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function bundle(base: string, name: string, entry = { path: TARGET, data: config }) {
  const out = join(dir, name);
  const written = await writeBundle(base, entry, out);
  return { out, written, bytes: await readFile(out) };
}

/** A base built by the writer, written to the temp dir. */
async function writerBase(name: string, entries: EntrySpec[], comment?: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, buildZip({ entries, ...(comment === undefined ? {} : { comment }) }));
  return path;
}

describe('streaming (runs first, while the peak RSS is still low)', () => {
  it('writes a bundle from a ~200 MB base with RSS growth under 64 MB', async () => {
    // Generated in a child process so its memory never counts against this one.
    const base = join(dir, 'base-200mb.jar');
    await exec(
      process.execPath,
      ['fixtures/generate-large-jar.mjs', '--out', base, '--entries', '3000', '--size-mb', '200'],
      { cwd: root },
    );
    const size = (await stat(base)).size;
    expect(size).toBeGreaterThan(190 * MiB);

    const out = join(dir, 'bundle-200mb.jar');
    const peakBefore = peakRss();
    const { result: written, growth } = await rssGrowth(() =>
      writeBundle(base, { path: TARGET, data: config }, out),
    );
    expect(growth).toBeLessThan(64 * MiB);
    expect(peakRss() - peakBefore).toBeLessThan(64 * MiB);

    expect(written.size).toBe((await stat(out)).size);
    expect(written.size).toBeGreaterThan(size);
    const listed = await zipinfoNames(out);
    expect(listed).toHaveLength(3001);
    expect(listed.at(-1)).toBe(TARGET);
    await rm(base);
    await rm(out);
  }, 180_000);
});

describe('every original entry stays byte-identical', () => {
  const bases = [
    ['the fixture agent JAR (jar tool: descriptors, stored entry)', fixtureJar],
    ['an Info-ZIP zip64 archive', join(corpus, 'success', 'info-zip-forced-zip64.zip')],
    [
      'a self-extractor with adjusted offsets',
      join(corpus, 'success', 'info-zip-self-extractor-adjusted.zip'),
    ],
    ['an archive with bare data descriptors', join(corpus, 'success', 'descriptors-without-signature.zip')],
  ];

  it.each(bases)('in %s: headers, data, descriptors and central records', async (_label, base) => {
    const before = await readFile(base as string);
    const { bytes: after, written } = await bundle(
      base as string,
      `identical-${createHash('md5')
        .update(base as string)
        .digest('hex')}.zip`,
    );
    const old = readDirectory(before);
    const now = readDirectory(after);

    expect(written.replaced).toBe(false);
    // Everything before the old central directory is copied unchanged...
    expect(after.subarray(0, old.cdOffset).equals(before.subarray(0, old.cdOffset))).toBe(true);
    // ...so each entry's local header, data and descriptor sit at the same offset, byte for byte.
    const offsets = [...old.records.map((r) => r.localOffset).sort((a, b) => a - b), old.cdOffset];
    for (let i = 0; i + 1 < offsets.length; i++) {
      const [start, end] = [offsets[i] as number, offsets[i + 1] as number];
      expect(after.subarray(start, end).equals(before.subarray(start, end))).toBe(true);
    }
    // Every old central record is kept as it was, in order; the new one comes last.
    expect(now.count).toBe(old.count + 1);
    old.records.forEach((record, i) => {
      expect(now.records[i]?.bytes.equals(record.bytes), record.name).toBe(true);
    });
    expect(now.records.at(-1)?.name).toBe(TARGET);
    expect(now.records.at(-1)?.localOffset).toBe(old.cdOffset);
  });
});

describe('an existing entry at the target path', () => {
  it('is replaced: its central record leaves, the new one points at the new data', async () => {
    const work = await mkdtemp(join(dir, 'replace-'));
    const base = join(work, 'with-config.jar');
    await copyFile(fixtureJar, base);
    await writeFile(join(work, TARGET), 'api.user_name=old-user\n');
    expect((await runTool('zip', ['-q', base, TARGET], { cwd: work })).code).toBe(0);
    const before = await readFile(base);
    const old = readDirectory(before);
    const oldRecord = old.records.find((r) => r.name === TARGET);
    expect(oldRecord).toBeDefined();

    const { out, bytes, written } = await bundle(base, 'replaced.jar');
    expect(written.replaced).toBe(true);
    expect(written.base.configEntry).toEqual({ path: TARGET, present: true });
    const now = readDirectory(bytes);
    expect(now.count).toBe(old.count);
    const matches = now.records.filter((r) => r.name === TARGET);
    expect(matches).toHaveLength(1);
    expect(matches[0]?.localOffset).toBe(old.cdOffset);
    expect(now.records.some((r) => r.bytes.equals(oldRecord?.bytes as Buffer))).toBe(false);
    // The other records are unchanged and in their order.
    const others = old.records.filter((r) => r.name !== TARGET).map((r) => r.bytes.toString('hex'));
    expect(now.records.slice(0, -1).map((r) => r.bytes.toString('hex'))).toEqual(others);

    const extracted = await runTool('unzip', ['-p', out, TARGET]);
    expect(extracted.stdout).toBe(config.toString());
    expect((await runTool('unzip', ['-tq', out])).code).toBe(0);
    const java = await javaView(out, TARGET);
    expect(java.jarFileConfig?.equals(config)).toBe(true);
    expect(java.jarFileSize).toBe(old.count);
  });
});

describe('layout', () => {
  it('keeps META-INF/MANIFEST.MF first', async () => {
    const { out } = await bundle(fixtureJar, 'manifest-first.jar');
    expect((await zipinfoNames(out))[0]).toBe('META-INF/MANIFEST.MF');
    const jar = await runTool('jar', ['tf', out]);
    expect(jar.stdout.split('\n')[0]).toBe('META-INF/MANIFEST.MF');
    expect((await inspectArchive(out)).summary.manifestFirst).toBe(true);
  });

  it('keeps the archive comment', async () => {
    const base = join(corpus, 'success', 'info-zip-with-archive-comment.zip');
    const before = readDirectory(await readFile(base));
    const { out, bytes } = await bundle(base, 'comment.zip');
    expect(before.comment.length).toBeGreaterThan(0);
    expect(bytes.subarray(bytes.length - before.comment.length).equals(before.comment)).toBe(true);
    const listed = await runTool('unzip', ['-z', out]);
    expect(listed.stdout).toContain(before.comment.toString().trim());
  });

  it('flags a non-ASCII target path as UTF-8, so readers decode it', async () => {
    const path = 'réglages/agentpack.properties';
    const { out, bytes } = await bundle(fixtureJar, 'utf8-target.jar', { path, data: config });
    const record = readDirectory(bytes).records.at(-1);
    expect(record?.name).toBe(path);
    expect((record?.bytes.readUInt16LE(8) ?? 0) & FLAG_UTF8).toBe(FLAG_UTF8);
    expect((await javaView(out, path)).jarFileConfig?.equals(config)).toBe(true);
  });

  it('refuses a target path that is not a safe entry name', async () => {
    const { structure } = await inspectArchive(fixtureJar);
    for (const path of [
      '../agentpack.properties',
      '/agentpack.properties',
      'conf\\a.properties',
      'conf/',
      '',
    ]) {
      expect(() => buildTail(structure, { path, data: config }), path).toThrow(UsageError);
    }
  });
});

describe('zip64', () => {
  const files = (count: number): EntrySpec[] => [
    { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n\r\n' },
    ...Array.from({ length: count - 1 }, (_, i) => ({ name: `c/${i}.class`, data: `${i}`, method: 0 })),
  ];

  it('is written when the new entry brings a classic base to 65,535 entries', async () => {
    const base = await writerBase('65534.jar', files(65_534));
    expect(readDirectory(await readFile(base)).zip64).toBe(false);
    const { out, bytes } = await bundle(base, '65535.jar');
    const now = readDirectory(bytes);
    expect(now).toMatchObject({ zip64: true, count: 65_535 });
    expect(bytes.readUInt16LE(bytes.length - 22 + 10)).toBe(0xffff);
    expect(await zipinfoNames(out)).toHaveLength(65_535);
    expect((await runTool('unzip', ['-tq', out])).code).toBe(0);
    expect((await javaView(out, TARGET)).jarFileSize).toBe(65_535);
  });

  it('is written for more than 65,535 entries, and readers see every entry', async () => {
    const base = await writerBase('65600.jar', files(65_600));
    const { out, bytes } = await bundle(base, '65601.jar');
    expect(readDirectory(bytes)).toMatchObject({ zip64: true, count: 65_601 });
    const test = await runTool('unzip', ['-tq', out]);
    expect(test.stdout).toContain('No errors detected');
    expect(await zipinfoNames(out)).toHaveLength(65_601);
    const java = await javaView(out, TARGET);
    expect(java.jarFileSize).toBe(65_601);
    expect(java.jarFileConfig?.equals(config)).toBe(true);
    expect((await inspectArchive(out)).summary).toMatchObject({ entryCount: 65_601, zip64: true });
  });
});

describe('determinism', () => {
  it('gives byte-identical bundles for the same base and config', async () => {
    const first = await bundle(fixtureJar, 'same-1.jar');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a clock tick must not show
    const second = await bundle(fixtureJar, 'same-2.jar');
    expect(first.bytes.equals(second.bytes)).toBe(true);
    expect(first.written.sha256).toBe(sha256(first.bytes));
    expect(second.written.sha256).toBe(first.written.sha256);
  });

  it('gives a different bundle for a different config', async () => {
    const other = await javaConfig({
      ...(await import('./support.js')).configValues,
      'api.user_name': 'someone-else',
    });
    const a = await bundle(fixtureJar, 'config-a.jar');
    const b = await bundle(fixtureJar, 'config-b.jar', { path: TARGET, data: other });
    expect(a.written.sha256).not.toBe(b.written.sha256);
  });

  it('prepareBase + spliceBundle give the same digest and size as writing the whole file', async () => {
    const prepared = await prepareBase(fixtureJar);
    const spliced = spliceBundle(prepared, { path: TARGET, data: config });
    const { bytes, written } = await bundle(fixtureJar, 'prepared.jar');
    expect(spliced.sha256).toBe(written.sha256);
    expect(spliced.size).toBe(bytes.length);
    const base = await readFile(fixtureJar);
    expect(
      Buffer.concat([base.subarray(0, spliced.tail.prefixLength), spliced.tail.bytes]).equals(bytes),
    ).toBe(true);
    // The saved prefix hash is copied, never consumed: a second bundle gives the same answer.
    expect(spliceBundle(prepared, { path: TARGET, data: config }).sha256).toBe(written.sha256);
  });
});

describe('real readers', () => {
  it('unzip -t, zipinfo, jar tf, JarFile and JarInputStream all read the bundle and its config', async () => {
    const { out } = await bundle(fixtureJar, 'readers.jar');
    const baseNames = await zipinfoNames(fixtureJar);

    const test = await runTool('unzip', ['-t', out]);
    expect(test.code).toBe(0);
    expect(test.stdout).toContain(`testing: ${TARGET}`);
    expect(test.stdout).toContain('No errors detected');
    expect(await zipinfoNames(out)).toEqual([...baseNames, TARGET]);
    const jar = await runTool('jar', ['tf', out]);
    expect(jar.code).toBe(0);
    expect(jar.stdout.trim().split('\n')).toEqual([...baseNames, TARGET]);

    const java = await javaView(out, TARGET);
    expect(java.jarFileSize).toBe(baseNames.length + 1);
    expect(java.jarFileNames).toEqual([...baseNames, TARGET]);
    expect(java.jarFileConfig?.toString()).toBe(config.toString());
    expect(java.jarFilePremain).toBe('dev.agentpack.fixture.Agent');
    // JarInputStream reads local headers front to back and keeps the manifest to itself.
    expect(java.streamNames).toEqual([...baseNames.filter((n) => n !== 'META-INF/MANIFEST.MF'), TARGET]);
    expect(java.streamConfig?.toString()).toBe(config.toString());
    expect(java.streamPremain).toBe('dev.agentpack.fixture.Agent');
  });

  it('java -javaagent:bundle.jar -version runs the agent, which prints the user and key ids, never a secret', async () => {
    const { out } = await bundle(fixtureJar, 'javaagent.jar');
    const result = await runJavaAgent(out);
    expect(result.code).toBe(0);
    const line = result.stderr.split('\n').find((l) => l.startsWith('agentpack-agent: '));
    expect(line).toBe(
      'agentpack-agent: user=agent-org1 api_key_id=apo_Org1PublicId service_key_id=aps_Agt1PublicId url=https://agentpack.example/api',
    );
    for (const secret of SECRET_PARTS) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('a JAR signed with jarsigner before injection still verifies after it', async () => {
    const signed = join(dir, 'signed.jar');
    await signJar(fixtureJar, signed);
    const before = await verifyJar(signed);
    expect(before.stdout).toContain('jar verified.');

    const { out, written } = await bundle(signed, 'signed-bundle.jar');
    expect(written.base.signatureFiles).toHaveLength(1);
    const after = await verifyJar(out);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('jar verified.');
    const agent = await runJavaAgent(out);
    expect(agent.code).toBe(0);
    expect(agent.stderr).toContain('agentpack-agent: user=agent-org1 ');
    // The signed entries are still the signed bytes: JarInputStream verifies them as it reads.
    const java = await javaView(out, TARGET);
    expect(java.streamConfig?.equals(config)).toBe(true);
  });
});

describe('writeBundle is all-or-nothing', () => {
  it('leaves no output and no temp file when the base is rejected', async () => {
    const work = await mkdtemp(join(dir, 'hostile-'));
    const out = join(work, 'bundle.jar');
    const hostile = join(corpus, 'failure', 'entries overlap.zip');
    await expect(writeBundle(hostile, { path: TARGET, data: config }, out)).rejects.toThrow(ArchiveError);
    expect(await readdir(work)).toEqual([]);
  });

  it('replaces an existing output file only once the new bundle is complete', async () => {
    const work = await mkdtemp(join(dir, 'overwrite-'));
    const out = join(work, 'bundle.jar');
    await writeFile(out, 'previous bundle');
    await expect(
      writeBundle(join(corpus, 'failure', 'is encrypted.zip'), { path: TARGET, data: config }, out),
    ).rejects.toThrow(ArchiveError);
    expect(await readFile(out, 'utf8')).toBe('previous bundle');
    await writeBundle(fixtureJar, { path: TARGET, data: config }, out);
    expect((await readFile(out)).subarray(0, 4).readUInt32LE(0)).toBe(0x04034b50);
    expect(await readdir(work)).toEqual(['bundle.jar']);
  });
});
