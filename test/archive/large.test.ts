/** A realistic JAR past the classic zip limits, generated here (fixtures/generate-large-jar.mjs). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLargeJar } from '../../fixtures/generate-large-jar.mjs';
import { writeBundle } from '../../src/archive/bundle.js';
import { inspectArchive } from '../../src/archive/inspect.js';
import { requireJava, runJavaAgent, runTool } from '../helpers/java.js';
import { javaConfig, javaView, readDirectory } from './support.js';

const TARGET = 'agentpack.properties';
let dir: string;
let base: string;

beforeAll(async () => {
  await requireJava();
  dir = await mkdtemp(join(tmpdir(), 'agentpack-large-'));
  base = join(dir, 'agent-70000.jar');
  const generated = await generateLargeJar({ out: base, entries: 70_000, sizeMb: 16 });
  expect(generated.zip64).toBe(true);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a JAR with 70,000 entries (zip64)', () => {
  it('is accepted by inspect, every entry inflated and checked', async () => {
    const { summary } = await inspectArchive(base, { verifyData: true });
    expect(summary).toMatchObject({
      entryCount: 70_000,
      zip64: true,
      manifestFirst: true,
      premainClass: 'dev.agentpack.fixture.Agent',
      dataVerified: true,
    });
  });

  it('gives a bundle of 70,001 entries that unzip, zipinfo, JarFile and the JVM all read', async () => {
    const config = await javaConfig();
    const out = join(dir, 'bundle-70001.jar');
    const written = await writeBundle(base, { path: TARGET, data: config }, out);
    expect(written.base.entryCount).toBe(70_000);

    const directory = readDirectory(await readFile(out));
    expect(directory).toMatchObject({ zip64: true, count: 70_001 });

    const test = await runTool('unzip', ['-tq', out], { timeoutMs: 300_000 });
    expect(test.stdout).toContain('No errors detected');
    expect(test.code).toBe(0);
    const count = await runTool('sh', ['-c', 'zipinfo -1 "$1" | wc -l', 'sh', out]);
    expect(count.stdout.trim()).toBe('70001');

    const java = await javaView(out, TARGET);
    expect(java.jarFileSize).toBe(70_001);
    expect(java.jarFileConfig?.equals(config)).toBe(true);
    expect(java.streamConfig?.equals(config)).toBe(true);

    const agent = await runJavaAgent(out);
    expect(agent.code).toBe(0);
    expect(agent.stderr).toContain('agentpack-agent: user=agent-org1 api_key_id=apo_Org1PublicId ');
  }, 300_000);
});
