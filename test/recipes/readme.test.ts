import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FakeBundleServer } from '../helpers/fake-bundle-server.js';
import { b64 } from '../http/harness.js';
import {
  agentpackOnPath,
  cleanEnv,
  downloadsServed,
  ensureBuilt,
  type LiveServer,
  root,
  run,
  startLiveServer,
} from './live.js';

/**
 * The README's recipes, run as written: every ```sh block between the recipe markers, and the
 * shell lines (`run:`, `script:`) of its GitHub Actions and GitLab CI snippets, with bash and
 * `set -eo pipefail` (as CI runners do) against a real server. A recipe that stops working
 * fails here, so the README cannot drift from the product.
 */

const exec = promisify(execFile);

interface Block {
  readonly heading: string;
  readonly lang: string;
  readonly code: string;
}

function recipeBlocks(readme: string): Block[] {
  const start = readme.indexOf('<!-- recipes:start -->');
  const end = readme.indexOf('<!-- recipes:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no recipes:start/recipes:end markers');
  const blocks: Block[] = [];
  let heading = '';
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of readme.slice(start, end).split('\n')) {
    if (open !== undefined) {
      if (line.startsWith('```')) {
        blocks.push({ heading, lang: open.lang, code: `${open.lines.join('\n')}\n` });
        open = undefined;
      } else open.lines.push(line);
    } else if (line.startsWith('```')) open = { lang: line.slice(3).trim(), lines: [] };
    else if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
  }
  if (open !== undefined) throw new Error(`unclosed code block under "${heading}"`);
  return blocks;
}

const blocks = recipeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
const shellBlocks = blocks.filter((b) => b.lang === 'sh');
const yamlBlocks = blocks.filter((b) => b.lang === 'yaml');
const ENV_NAMES = ['AGENTPACK_URL', 'AGENTPACK_ORG_ID', 'AGENTPACK_AUTH', 'AGENTPACK_API_KEY'];

function byHeading(list: readonly Block[], heading: string): Block {
  const block = list.find((b) => b.heading === heading);
  if (block === undefined) throw new Error(`no recipe under "${heading}" in README.md`);
  return block;
}

interface GitHubWorkflow {
  jobs: Record<string, { env?: Record<string, string>; steps: { run?: string; uses?: string }[] }>;
}
type GitLabJob = { variables?: Record<string, string>; script?: string[] };

/** The shell text of every `run:` step, in order. */
function githubScripts(yamlText: string): { env: string[]; scripts: string[] } {
  const workflow = parse(yamlText) as GitHubWorkflow;
  const jobs = Object.values(workflow.jobs);
  return {
    env: jobs.flatMap((job) => Object.keys(job.env ?? {})),
    scripts: jobs.flatMap((job) => job.steps.flatMap((step) => (step.run === undefined ? [] : [step.run]))),
  };
}

/** Each job's `script:` lines as one script (GitLab runs them in one shell). */
function gitlabScripts(yamlText: string): { env: string[]; scripts: string[] } {
  const jobs = Object.values(parse(yamlText) as Record<string, GitLabJob>);
  return {
    env: jobs.flatMap((job) => Object.keys(job.variables ?? {})),
    scripts: jobs.flatMap((job) => (job.script === undefined ? [] : [job.script.join('\n')])),
  };
}

let live: LiveServer;
let scratch: string;
let env: Record<string, string>;
let counter = 0;

beforeAll(async () => {
  await ensureBuilt();
  live = await startLiveServer();
  scratch = await mkdtemp(join(tmpdir(), 'agentpack-recipes-'));
  const binDir = await agentpackOnPath(scratch);
  env = cleanEnv({ ...live.env, PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` }, scratch);
}, 180_000);

afterAll(async () => {
  await live?.close();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = join(scratch, `run-${++counter}`);
  await exec('mkdir', [dir]);
  return dir;
}

function bash(script: string, cwd: string, extraEnv: Record<string, string> = {}) {
  return run('bash', ['-eo', 'pipefail', '-c', script], { cwd, env: { ...env, ...extraEnv } });
}

/** Runs a script and fails with everything it printed when it does not exit 0. */
async function runOk(script: string, cwd: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const result = await bash(script, cwd, extraEnv);
  if (result.code !== 0)
    throw new Error(
      `recipe exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  return result.stdout;
}

/** Every .jar under `dir` (the bundles the recipe left), each checked with `unzip -t`. */
async function verifiedJars(dir: string): Promise<string[]> {
  const jars = (await readdir(dir, { recursive: true })).filter((name) => name.endsWith('.jar'));
  for (const jar of jars) {
    const { stdout } = await exec('unzip', ['-t', join(dir, jar)]);
    expect(stdout).toContain('No errors detected');
    const { stdout: listing } = await exec('unzip', ['-p', join(dir, jar), 'agentpack.properties']);
    expect(listing).toContain(`api.api_key=${live.t.acme.apiKey}`);
  }
  return jars.sort();
}

describe('README recipes', () => {
  it('has the recipes the README promises, between the markers', () => {
    expect(shellBlocks.map((b) => b.heading)).toEqual([
      'Download with curl and header authentication',
      'Download with a signed link',
      'With the agentpack CLI',
      'Caching by ETag in a CI job',
    ]);
    expect(yamlBlocks.map((b) => b.heading)).toEqual(['GitHub Actions', 'GitLab CI']);
  });

  it('uses the same environment variable names everywhere', () => {
    const text = blocks.map((b) => b.code).join('\n');
    const used = new Set(text.match(/\bAGENTPACK_[A-Z_]+/g));
    expect([...used].sort()).toEqual([...ENV_NAMES].sort());
    expect(githubScripts(byHeading(yamlBlocks, 'GitHub Actions').code).env).toEqual(ENV_NAMES);
    for (const name of gitlabScripts(byHeading(yamlBlocks, 'GitLab CI').code).env)
      expect(ENV_NAMES).toContain(name);
  });

  describe.each(shellBlocks.filter((b) => b.heading !== 'With the agentpack CLI'))('"$heading"', (block) => {
    it('runs as written and leaves a bundle that verifies with sha256sum, openssl and unzip', async () => {
      const dir = await freshDir();
      const stdout = await runOk(block.code, dir);
      const jars = await verifiedJars(dir);
      expect(jars.length).toBeGreaterThan(0);
      expect(stdout).toContain('agentpack-java-1.0.0-acme.jar: OK');
      expect(stdout).toContain('Signature Verified Successfully');
    });
  });

  it('"Download with curl and header authentication" stops at the first refused request', async () => {
    const dir = await freshDir();
    const result = await bash(
      byHeading(shellBlocks, 'Download with curl and header authentication').code,
      dir,
      {
        AGENTPACK_API_KEY: `${live.t.other.apiKey}`,
      },
    );
    expect(result.code).toBe(22);
    expect(result.stderr).toMatch(/curl: \(22\) The requested URL returned error: 40[14]/);
    expect(await verifiedJars(dir)).toEqual([]);
  });

  it('"With the agentpack CLI" downloads and verifies, then finds the bundle unchanged', async () => {
    const dir = await freshDir();
    const code = byHeading(shellBlocks, 'With the agentpack CLI').code;
    const first = await runOk(code, dir);
    expect(first).toMatch(/^agentpack-java-1\.0\.0-acme\.jar: OK sha256 [0-9a-f]{64}, signed by /);
    expect(await verifiedJars(dir)).toEqual(['agentpack-java-1.0.0-acme.jar']);
    const { stdout } = await exec('sha256sum', ['-c', 'agentpack-java-1.0.0-acme.jar.sha256'], { cwd: dir });
    expect(stdout).toBe('agentpack-java-1.0.0-acme.jar: OK\n');
    const served = downloadsServed(live);
    const second = await runOk(code, dir);
    expect(second).toMatch(/^agentpack-java-1\.0\.0-acme\.jar: unchanged sha256 /);
    expect(downloadsServed(live)).toBe(served);
  });

  it('"Caching by ETag in a CI job" transfers nothing the second time and keeps the cached file', async () => {
    const dir = await freshDir();
    const code = byHeading(shellBlocks, 'Caching by ETag in a CI job').code;
    await runOk(code, dir);
    const cached = join(dir, '.agentpack-cache', 'agentpack-java-1.0.0-acme.jar');
    const before = await stat(cached);
    const served = downloadsServed(live);

    const second = await runOk(code, dir);
    expect(second).toMatch(/^agent unchanged: [0-9a-f]{64}\n$/);
    expect(downloadsServed(live)).toBe(served);
    expect((await stat(cached)).mtimeMs).toBe(before.mtimeMs);
    const names = (await readdir(dir)).sort();
    expect(names.filter((name) => !name.startsWith('signing-key-'))).toEqual([
      '.agentpack-cache',
      'agent.jar',
    ]);
    expect(names.filter((name) => /^signing-key-[0-9a-f]{16}\.pem$/.test(name))).toHaveLength(1);
    expect(await verifiedJars(dir)).toEqual(['.agentpack-cache/agentpack-java-1.0.0-acme.jar', 'agent.jar']);
  });

  it('"Caching by ETag in a CI job" does not trust a damaged cache and downloads afresh', async () => {
    const dir = await freshDir();
    const code = byHeading(shellBlocks, 'Caching by ETag in a CI job').code;
    await runOk(code, dir);
    await exec('sh', ['-c', 'printf x >> .agentpack-cache/agentpack-java-1.0.0-acme.jar'], { cwd: dir });
    const served = downloadsServed(live);
    const again = await runOk(code, dir);
    expect(again).toContain('agentpack-java-1.0.0-acme.jar: FAILED');
    expect(again).toContain('agentpack-java-1.0.0-acme.jar: OK');
    expect(again).not.toContain('agent unchanged');
    expect(downloadsServed(live)).toBe(served + 1);
    expect(await verifiedJars(dir)).toEqual(['.agentpack-cache/agentpack-java-1.0.0-acme.jar', 'agent.jar']);
  });
});

describe.each([
  ['GitHub Actions', githubScripts],
  ['GitLab CI', gitlabScripts],
] as const)('the %s snippet', (heading, scriptsOf) => {
  it('runs its shell lines as written, then again without transferring the bundle', async () => {
    const { scripts } = scriptsOf(byHeading(yamlBlocks, heading).code);
    expect(scripts.length).toBeGreaterThan(0);
    const dir = await freshDir();
    const outputs: string[] = [];
    for (const script of scripts) outputs.push(await runOk(script, dir));
    expect(outputs.join('')).toContain('Signature Verified Successfully');
    expect(await verifiedJars(dir)).toEqual(['.agentpack-cache/agentpack-java-1.0.0-acme.jar', 'agent.jar']);

    const served = downloadsServed(live);
    const again: string[] = [];
    for (const script of scripts) again.push(await runOk(script, dir));
    expect(again.join('')).toContain('agent unchanged');
    expect(downloadsServed(live)).toBe(served);
  });
});

/** Every recipe that verifies with curl: the shell blocks but the CLI's, and the CI snippets' scripts. */
function curlRecipes(): { name: string; scripts: string[] }[] {
  return [
    ...shellBlocks
      .filter((b) => b.heading !== 'With the agentpack CLI')
      .map((b) => ({ name: b.heading, scripts: [b.code] })),
    { name: 'GitHub Actions', scripts: githubScripts(byHeading(yamlBlocks, 'GitHub Actions').code).scripts },
    { name: 'GitLab CI', scripts: gitlabScripts(byHeading(yamlBlocks, 'GitLab CI').code).scripts },
  ];
}

/**
 * A `curl` first on PATH that, the first time a run asks for a statement (`*.sha256`), has an
 * admin rotate the organization's agent service key (one hour of grace) and waits for the
 * answer before doing what was asked: the bundle already downloaded is no longer `latest` when
 * its statement is fetched, deterministically.
 */
async function rotatingCurl(dir: string): Promise<string> {
  const { stdout } = await exec('sh', ['-c', 'command -v curl']);
  const realCurl = stdout.trim();
  const binDir = join(dir, 'rotating-bin');
  await mkdir(binDir);
  await writeFile(
    join(binDir, 'curl'),
    `#!/bin/sh
for arg in "$@"; do
  case "$arg" in
    *.sha256)
      if [ ! -e "$ROTATE_MARKER" ]; then
        : > "$ROTATE_MARKER"
        '${realCurl}' -fsS -o /dev/null -X POST -H "Authorization: $ROTATE_AUTH" -H "API-Key: $ROTATE_API_KEY" \\
          -H 'Content-Type: application/json' -d '{"graceSeconds": 3600}' "$ROTATE_URL" || exit 99
      fi ;;
  esac
done
exec '${realCurl}' "$@"
`,
  );
  await chmod(join(binDir, 'curl'), 0o755);
  return binDir;
}

describe('the curl recipes while keys rotate', () => {
  let binDir: string;

  beforeAll(async () => {
    binDir = await rotatingCurl(scratch);
  });

  it.each(curlRecipes())(
    '"$name" verifies the bundle it downloaded when a rotation lands before its statement is fetched',
    async ({ scripts }) => {
      const dir = await freshDir();
      const marker = join(scratch, `rotated-${counter}`);
      const rotateEnv = {
        PATH: `${binDir}:${env.PATH}`,
        ROTATE_MARKER: marker,
        ROTATE_URL: `${live.url}/api/v1/orgs/${live.t.acme.orgId}/keys/agent-service-key/rotate`,
        ROTATE_AUTH: b64(`${live.t.admin.email}:${live.t.admin.serviceKey}`),
        ROTATE_API_KEY: live.t.acme.apiKey,
      };
      const before = await currentDigest();
      const outputs: string[] = [];
      for (const script of scripts) outputs.push(await runOk(script, dir, rotateEnv));
      expect(existsSync(marker)).toBe(true);
      const after = await currentDigest();
      expect(after).not.toBe(before);
      const output = outputs.join('');
      expect(output).toContain('Signature Verified Successfully');
      expect(output).toContain('agentpack-java-1.0.0-acme.jar: OK');
      const statement = keptStatement(dir);
      expect(statement.slice(0, 64)).toBe(before);
      expect((await verifiedJars(dir)).length).toBeGreaterThan(0);
    },
  );
});

/** The digest `latest` names now (what a statement fetched by version would say). */
async function currentDigest(): Promise<string> {
  const response = await live.t.app.inject({
    url: `/api/v1/orgs/${live.t.acme.orgId}/agents/java/latest/bundle.sha256`,
    headers: {
      authorization: b64(`${live.t.member.email}:${live.t.member.serviceKey}`),
      'api-key': live.t.acme.apiKey,
    },
  });
  return response.body.slice(0, 64);
}

/** The statement a recipe kept: agent.sha256 beside the bundle, or in the cache. */
function keptStatement(dir: string): string {
  const cached = join(dir, '.agentpack-cache', 'agent.sha256');
  return readFileSync(existsSync(cached) ? cached : join(dir, 'agent.sha256'), 'utf8');
}

describe('the curl recipes against a server whose statement names a hostile file', () => {
  let fake: FakeBundleServer;

  beforeAll(async () => {
    fake = await FakeBundleServer.start();
  });

  afterAll(async () => {
    await fake?.close();
  });

  const cases = curlRecipes().flatMap((recipe) =>
    [
      '../../.bashrc',
      ...(recipe.name === 'Download with curl and header authentication' ? ['.bashrc'] : []),
    ].map((hostile) => ({ ...recipe, hostile })),
  );

  it.each(cases)(
    '"$name" stops at $hostile, non-zero, and writes nothing outside its directory',
    async ({ scripts, hostile }) => {
      // Validly signed by the server's key: the check must hold even when the signature does.
      fake.publish('acme', 'java', '1.0.0', randomBytes(4096), { statementFileName: hostile });
      const home = await mkdtemp(join(scratch, 'hostile-'));
      const dir = join(home, 'a', 'b');
      await mkdir(dir, { recursive: true });
      const fakeEnv = {
        ...fake.env(),
        AGENTPACK_URL: fake.base,
        AGENTPACK_ORG_ID: fake.user.orgId,
        HOME: home,
      };
      let result = { code: 0 as number | null, stderr: '' };
      for (const script of scripts) {
        result = await bash(script, dir, fakeEnv);
        if (result.code !== 0) break;
      }
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`unexpected file name: ${hostile}`);
      const outside = (await readdir(home, { recursive: true })).filter(
        (entry) => entry !== 'a' && entry !== join('a', 'b') && !entry.startsWith(`${join('a', 'b')}/`),
      );
      expect(outside).toEqual([]);
      expect(existsSync(join(home, '.bashrc'))).toBe(false);
      expect((await readdir(dir, { recursive: true })).filter((entry) => entry.endsWith('.bashrc'))).toEqual(
        [],
      );
    },
  );
});
