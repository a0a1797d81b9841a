import { readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/cli.js';
import { requireJava, runTool, signJar } from '../helpers/java.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtureJar = join(root, 'fixtures/java-agent/agentpack-java-agent.jar');
const fixtureZip = join(root, 'fixtures/node-agent/agentpack-node-agent.zip');
const failureDir = join(root, 'test/corpus/failure');
const failures = readdirSync(failureDir)
  .filter((name) => name.endsWith('.zip'))
  .sort();

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-cli-inspect-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI in-process with captured output. */
function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return runCaptured(argv, { env, cwd: dir });
}

/** The summary's rows as name -> value. */
function rows(stdout: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of stdout.split('\n').slice(1)) {
    const match = /^ {2}(\S+(?: \S+)?)\s{2,}(.*)$/.exec(line) ?? /^ {2}(Premain-Class) (.*)$/.exec(line);
    if (match) found.set(match[1] as string, match[2] as string);
  }
  return found;
}

describe('agentpack inspect FILE (a valid base)', () => {
  it('prints a summary: entries, sizes, manifest, Premain-Class, unsigned, no config entry', async () => {
    const result = await cli(['inspect', fixtureJar]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.split('\n')[0]).toBe(`${fixtureJar}: valid`);
    const summary = rows(result.stdout);
    expect(summary.get('entries')).toBe('7');
    expect(summary.get('size')).toMatch(/^[\d.]+ KiB file, [\d.]+ KiB uncompressed$/);
    expect(summary.get('manifest')).toBe('META-INF/MANIFEST.MF first');
    expect(summary.get('Premain-Class')).toBe('dev.agentpack.fixture.Agent');
    expect(summary.get('signed jar')).toBe('no');
    expect(summary.get('config entry')).toBe('absent (agentpack.properties, node-agent/agentpack.yaml)');
  });

  it('says when the JAR is signed', async () => {
    await requireJava();
    const signed = join(dir, 'signed.jar');
    await signJar(fixtureJar, signed);
    const result = await cli(['inspect', signed]);
    expect(result.code).toBe(0);
    expect(rows(result.stdout).get('signed jar')).toMatch(/^yes \(META-INF\/[A-Z0-9_-]+\.SF\)$/);
  });

  it('says when the base already holds the config entry, which a bundle replaces', async () => {
    const work = await mkdtemp(join(dir, 'present-'));
    const jar = join(work, 'with-config.jar');
    await copyFile(fixtureJar, jar);
    await writeFile(join(work, 'agentpack.properties'), 'api.user_name=someone\n');
    expect((await runTool('zip', ['-q', jar, 'agentpack.properties'], { cwd: work })).code).toBe(0);
    const result = await cli(['inspect', jar, '--kind', 'java']);
    expect(result.code).toBe(0);
    expect(rows(result.stdout).get('config entry')).toBe(
      'agentpack.properties present (replaced when bundling)',
    );
    expect(rows(result.stdout).get('entries')).toBe('8');
  });

  it('checks a zip agent against its own kind', async () => {
    const result = await cli(['inspect', '--kind', 'node', fixtureZip]);
    expect(result.code).toBe(0);
    expect(rows(result.stdout).get('Premain-Class')).toBe('(none)');
    expect(rows(result.stdout).get('config entry')).toBe('absent (node-agent/agentpack.yaml)');
  });

  it('reports a preamble and a comment when there are some', async () => {
    const result = await cli([
      'inspect',
      join(root, 'test/corpus/success/writer-preamble-adjusted-offsets.zip'),
    ]);
    expect(result.code).toBe(0);
    expect(rows(result.stdout).get('preamble')).toMatch(
      /^\d+ bytes before the first entry \(kept unchanged\)$/,
    );
    expect(rows(result.stdout).get('comment')).toBe('3 bytes (kept)');
  });

  it('prints the summary as JSON with --json', async () => {
    const result = await cli(['inspect', '--json', fixtureJar]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      file: fixtureJar,
      valid: true,
      entryCount: 7,
      zip64: false,
      premainClass: 'dev.agentpack.fixture.Agent',
      signatureFiles: [],
      configEntries: [],
      dataVerified: true,
    });
  });
});

describe('agentpack inspect FILE (a file that must not be a base)', () => {
  it.each(failures)('prints one line naming the file and the reason for %s, and exits 2', async (file) => {
    const result = await cli(['inspect', join(failureDir, file)]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]?.startsWith(`agentpack: ${file}: `)).toBe(true);
    expect(lines[0]).toContain(file.slice(0, -'.zip'.length));
  });

  it('names a missing file in one line and exits 2', async () => {
    const missing = join(dir, 'no-such-agent.jar');
    const result = await cli(['inspect', missing]);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `agentpack: ${missing}: no such file\n` });
  });

  it('names a directory in one line and exits 2', async () => {
    const folder = join(dir, 'a-folder.jar');
    await mkdir(folder);
    const result = await cli(['inspect', folder]);
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'agentpack: a-folder.jar: not a regular file\n' });
  });

  it('applies limits given as options or in the environment', async () => {
    const byOption = await cli(['inspect', fixtureJar, '--max-entries', '3']);
    expect(byOption.code).toBe(2);
    expect(byOption.stderr).toBe(
      'agentpack: agentpack-java-agent.jar: archive has 7 entries, more than the limit of 3\n',
    );
    const byEnv = await cli(['inspect', fixtureJar], { AGENTPACK_MAX_ENTRIES: '3' });
    expect(byEnv.stderr).toBe(byOption.stderr);
    const malformed = await cli(['inspect', fixtureJar, '--max-ratio', 'lots']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe("agentpack: --max-ratio must be a non-negative integer, got 'lots'\n");
  });

  it('wants exactly one FILE', async () => {
    const none = await cli(['inspect']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^agentpack: inspect takes exactly one FILE/);
    const two = await cli(['inspect', fixtureJar, fixtureZip]);
    expect(two.code).toBe(2);
  });
});
