import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { API_KEY, SECRET_PARTS, SERVICE_KEY } from '../fixtures/keys.js';
import { runCaptured } from '../helpers/cli.js';
import { requireJava, runJavaAgent, runTool } from '../helpers/java.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtureJar = join(root, 'fixtures/java-agent/agentpack-java-agent.jar');
const fixtureZip = join(root, 'fixtures/node-agent/agentpack-node-agent.zip');

const VALUES: Record<string, string> = {
  'api.url': 'https://agentpack.example/api',
  'api.api_key': API_KEY,
  'api.service_key': SERVICE_KEY,
  'api.user_name': 'agent-org1',
};

/** `--set name=value` for every value except `omit`. */
function sets(omit?: string): string[] {
  return Object.entries(VALUES)
    .filter(([name]) => name !== omit)
    .flatMap(([name, value]) => ['--set', `${name}=${value}`]);
}
const SETS = sets();

let dir: string;
let dataDir: string;
let outDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-cli-pack-'));
  dataDir = join(dir, 'data');
});
beforeEach(async () => {
  outDir = await mkdtemp(join(dir, 'out-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI in-process with captured output; the data dir is a temp dir. */
function cli(argv: string[]) {
  return runCaptured(argv, { env: { AGENTPACK_DATA_DIR: dataDir }, cwd: dir });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function expectNoSecret(text: string): void {
  for (const secret of SECRET_PARTS) expect(text).not.toContain(secret);
}

describe('agentpack pack', () => {
  it('writes OUT, OUT.sha256 and OUT.sig that sha256sum and openssl accept', async () => {
    const out = join(outDir, 'agent.jar');
    const result = await cli(['pack', '--base', fixtureJar, '--kind', 'java', '--out', out, ...SETS]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expectNoSecret(result.stdout);
    expect((await readdir(outDir)).sort()).toEqual(['agent.jar', 'agent.jar.sha256', 'agent.jar.sig']);

    const check = await runTool('sha256sum', ['-c', 'agent.jar.sha256'], { cwd: outDir });
    expect(check.stdout).toBe('agent.jar: OK\n');
    expect(check.code).toBe(0);
    const verify = await runTool('openssl', [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      join(dataDir, 'signing-key.pem'),
      '-rawin',
      '-in',
      `${out}.sha256`,
      '-sigfile',
      `${out}.sig`,
    ]);
    expect(verify.stdout).toContain('Signature Verified Successfully');
    expect(verify.code).toBe(0);

    const bytes = await readFile(out);
    const digest = createHash('sha256').update(bytes).digest('hex');
    expect(result.stdout).toContain(`sha256 ${digest}`);
    const statement = await readFile(`${out}.sha256`, 'utf8');
    expect(statement.split('\n')[0]).toBe(`${digest}  agent.jar`);
    expect(statement).toContain('# kind: java\n');
  });

  it('embeds the rendered config, which the agent reads under java -javaagent', async () => {
    await requireJava();
    const out = join(outDir, 'agent.jar');
    const result = await cli(['pack', '--base', fixtureJar, '--kind', 'java', '--out', out, ...SETS]);
    expect(result.code).toBe(0);
    const config = await runTool('unzip', ['-p', out, 'agentpack.properties']);
    expect(config.stdout).toContain('api.user_name=agent-org1\n');
    const agent = await runJavaAgent(out);
    expect(agent.code).toBe(0);
    expect(agent.stderr).toContain(
      'agentpack-agent: user=agent-org1 api_key_id=apo_Org1PublicId service_key_id=aps_Agt1PublicId url=https://agentpack.example/api',
    );
    expectNoSecret(agent.stdout + agent.stderr);
  });

  it('packs a zip agent with a YAML config and records org and version in the statement', async () => {
    const out = join(outDir, 'node-agent.zip');
    const result = await cli([
      'pack',
      '--base',
      fixtureZip,
      '--kind',
      'node',
      '--out',
      out,
      '--org',
      'org_acme',
      '--version',
      '1.2.3',
      '--json',
      ...SETS,
    ]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { sha256: string; size: number; replaced: boolean };
    const bytes = await readFile(out);
    expect(json.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(json.size).toBe(bytes.length);
    expect(json.replaced).toBe(false);

    const yaml = await runTool('unzip', ['-p', out, 'node-agent/agentpack.yaml']);
    expect(parseYaml(yaml.stdout)).toMatchObject({
      api: {
        url: 'https://agentpack.example/api',
        api_key: API_KEY,
        service_key: SERVICE_KEY,
        user_name: 'agent-org1',
      },
    });
    const statement = await readFile(`${out}.sha256`, 'utf8');
    expect(statement).toContain('# org: org_acme\n');
    expect(statement).toContain('# kind: node\n');
    expect(statement).toContain('# version: 1.2.3\n');
  });

  it('fails with one line naming the missing variable and writes nothing', async () => {
    const out = join(outDir, 'agent.jar');
    const result = await cli([
      'pack',
      '--base',
      fixtureJar,
      '--kind',
      'java',
      '--out',
      out,
      ...sets('api.service_key'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(/^agentpack: .*api\.service_key.*\n$/);
    expectNoSecret(result.stderr);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('rejects a hostile base in one line and leaves no output and no temp file', async () => {
    const out = join(outDir, 'agent.jar');
    const hostile = join(root, 'test/corpus/failure/entries overlap.zip');
    const result = await cli(['pack', '--base', hostile, '--kind', 'java', '--out', out, ...SETS]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^agentpack: entries overlap\.zip: entries overlap: .*\n$/);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('rejects a base that is not a zip at all, leaving the out dir empty', async () => {
    const notZip = join(dir, 'agent.txt');
    await writeFile(notZip, 'hello, not an archive\n');
    const result = await cli([
      'pack',
      '--base',
      notZip,
      '--kind',
      'java',
      '--out',
      join(outDir, 'x.jar'),
      ...SETS,
    ]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/^agentpack: agent\.txt: not a zip archive: .*\n$/);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('names a missing base in one line and exits 2', async () => {
    const missing = join(dir, 'missing.jar');
    const result = await cli([
      'pack',
      '--base',
      missing,
      '--kind',
      'java',
      '--out',
      join(outDir, 'x.jar'),
      ...SETS,
    ]);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `agentpack: ${missing}: no such file\n` });
    expect(await readdir(outDir)).toEqual([]);
  });

  it.each([
    [
      'in a directory that does not exist',
      () => join(outDir, 'nope', 'x.jar'),
      'the directory .*nope does not exist',
    ],
    ['that is a directory', () => outDir, 'is a directory; name the bundle file'],
    ['that is the base itself', () => fixtureJar, 'is the base itself; write the bundle to another file'],
  ])(
    'refuses an --out %s in one line before any work, leaving everything as it was',
    async (_label, target, message) => {
      const out = target();
      const baseBefore = await readFile(fixtureJar);
      const result = await cli(['pack', '--base', fixtureJar, '--kind', 'java', '--out', out, ...SETS]);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(new RegExp(`^agentpack: --out ${escapeRegExp(out)}:? ${message}\n$`));
      expect(await readdir(outDir)).toEqual([]);
      expect((await readFile(fixtureJar)).equals(baseBefore)).toBe(true);
    },
  );

  it('requires --base, --kind and --out', async () => {
    for (const option of ['base', 'kind', 'out']) {
      const argv = ['pack', '--base', fixtureJar, '--kind', 'java', '--out', join(outDir, 'x.jar'), ...SETS];
      argv.splice(argv.indexOf(`--${option}`), 2);
      const result = await cli(argv);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`agentpack: missing required option --${option}\n`);
    }
    expect(await readdir(outDir)).toEqual([]);
  });
});
