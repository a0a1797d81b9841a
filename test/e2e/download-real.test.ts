import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders } from '../http/harness.js';
import {
  agentpack,
  cleanEnv,
  downloadsServed,
  ensureBuilt,
  freePort,
  type LiveServer,
  startLiveServer,
} from '../recipes/live.js';

/**
 * `agentpack download` as a separate process against the real service (not the fake bundle
 * server the client's unit tests use): header authentication, signed links, ETag revalidation,
 * and the failures a CI job meets, each one line, a non-zero exit and nothing at the target.
 */

const exec = promisify(execFile);
const FILE = 'agentpack-java-1.0.0-acme.jar';

let live: LiveServer;
let scratch: string;
let counter = 0;

beforeAll(async () => {
  await ensureBuilt();
  live = await startLiveServer();
  scratch = await mkdtemp(join(tmpdir(), 'agentpack-download-real-'));
}, 180_000);

afterAll(async () => {
  await live?.close();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = join(scratch, `case-${++counter}`);
  await mkdir(dir);
  return dir;
}

function bundleUrl(kind = 'java', version = 'latest'): string {
  return `${live.url}/api/v1/orgs/${live.t.acme.orgId}/agents/${kind}/${version}/bundle`;
}

function download(args: string[], dir: string, env: Record<string, string> = live.env) {
  return agentpack(['download', ...args], { cwd: dir, env: cleanEnv(env, dir) });
}

async function createLink(ttlSeconds: number): Promise<string> {
  const response = await live.t.app.inject({
    method: 'POST',
    url: `/api/v1/orgs/${live.t.acme.orgId}/agents/java/latest/links`,
    headers: apiHeaders(live.t.member, live.t.acme),
    payload: { ttlSeconds },
  });
  expect(response.statusCode).toBe(201);
  return (response.json() as { url: string }).url;
}

/** The bundle and its companions verify with the standard tools and the server's published key. */
async function expectVerifiable(dir: string): Promise<void> {
  const pem = await fetch(`${live.url}/.well-known/agentpack/signing-key.pem`);
  await writeFile(join(dir, 'signing-key.pem'), await pem.text());
  const sums = await exec('sha256sum', ['-c', `${FILE}.sha256`], { cwd: dir });
  expect(sums.stdout).toBe(`${FILE}: OK\n`);
  const verified = await exec(
    'openssl',
    [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      'signing-key.pem',
      '-rawin',
      '-in',
      `${FILE}.sha256`,
      '-sigfile',
      `${FILE}.sig`,
    ],
    { cwd: dir },
  );
  expect(verified.stdout).toContain('Signature Verified Successfully');
  const { stdout } = await exec('unzip', ['-t', FILE], { cwd: dir });
  expect(stdout).toContain('No errors detected');
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

describe('agentpack download against the real server', () => {
  it('downloads with header authentication, shows progress lines in a log, and verifies', async () => {
    const dir = await freshDir();
    const served = downloadsServed(live);
    const result = await download([bundleUrl()], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^${FILE}: OK sha256 [0-9a-f]{64}, signed by [0-9a-f]{16} \\(java 1\\.0\\.0, org ${live.t.acme.orgId}\\)\\n$`,
      ),
    );
    expect(result.stderr).toMatch(new RegExp(`^downloading ${FILE} \\(.+\\)\\n`));
    expect(result.stderr).toMatch(/\ndownloaded .+ in .+ s \(.+\/s\)\n$/);
    expect(result.stderr).not.toContain(live.t.member.serviceKey);
    expect(downloadsServed(live)).toBe(served + 1);
    await expectVerifiable(dir);
    expect((await readdir(dir)).sort()).toEqual([FILE, `${FILE}.sha256`, `${FILE}.sig`, 'signing-key.pem']);
  });

  it('asks again with the ETag and gets 304: nothing is transferred, the file is unchanged', async () => {
    const dir = await freshDir();
    expect((await download([bundleUrl(), '--quiet'], dir)).code).toBe(0);
    const before = await readFile(join(dir, FILE));
    const served = downloadsServed(live);
    const again = await download([bundleUrl(), '--json'], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, unchanged: true, file: FILE, kind: 'java' });
    expect(downloadsServed(live)).toBe(served);
    expect((await readFile(join(dir, FILE))).equals(before)).toBe(true);
  });

  it('downloads through a signed link with no credentials in the environment', async () => {
    const dir = await freshDir();
    const link = await createLink(3600);
    const result = await download([link, '-o', 'agent.jar', '--quiet'], dir, {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^agent\.jar: OK sha256 [0-9a-f]{64}/);
    const { stdout } = await exec('unzip', ['-p', 'agent.jar', 'agentpack.properties'], { cwd: dir });
    expect(stdout).toContain(`api.api_key=${live.t.acme.apiKey}`);
    // The statement names the bundle's own file; renamed, the digest is still the signed one.
    const [sum] = (await readFile(join(dir, 'agent.jar.sha256'), 'utf8')).split('  ');
    const actual = (await exec('sha256sum', ['agent.jar'], { cwd: dir })).stdout.split(' ')[0];
    expect(actual).toBe(sum);
  });

  it('exits 1 with one line and leaves no file when the pinned key is not the signing key', async () => {
    const dir = await freshDir();
    await exec('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', 'other.key'], { cwd: dir });
    await exec('openssl', ['pkey', '-in', 'other.key', '-pubout', '-out', 'other.pem'], { cwd: dir });
    const result = await download([bundleUrl(), '--key', 'other.pem'], dir);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toMatch(
      /^agentpack: statement was signed by key [0-9a-f]{16}, which is not among/,
    );
    expect((await readdir(dir)).sort()).toEqual(['other.key', 'other.pem']);
  });

  it('exits 3 with one line and leaves no file when the signed link has expired', async () => {
    const dir = await freshDir();
    const link = await createLink(60);
    const now = live.t.clock;
    live.t.clock = now + 120_000;
    try {
      const result = await download([link, '-o', 'agent.jar'], dir, {});
      expect(result.code).toBe(3);
      const line = oneLine(result.stderr);
      expect(line).toMatch(
        /^agentpack: http:\/\/127\.0\.0\.1:\d+\/dl\/…\/bundle\.sha256: HTTP 403 FORBIDDEN: this link has expired/,
      );
      expect(line).toContain('ask for a new one');
      expect(line).not.toContain(new URL(link).pathname.split('/')[2]);
    } finally {
      live.t.clock = now;
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('exits 3 with one line and leaves no file when the credentials are refused', async () => {
    const dir = await freshDir();
    const result = await download([bundleUrl()], dir, {
      ...live.env,
      AGENTPACK_API_KEY: live.t.other.apiKey,
    });
    expect(result.code).toBe(3);
    expect(oneLine(result.stderr)).toMatch(/^agentpack: .*: HTTP 401 .*\(the server refused the credentials/);
    expect(result.stderr).not.toContain(live.t.other.apiKey);
    expect(await readdir(dir)).toEqual([]);
  });

  it('exits 3 with one line and leaves no file when the server is down', async () => {
    const dir = await freshDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/api/v1/orgs/${live.t.acme.orgId}/agents/java/latest/bundle`;
    const result = await download([url], dir);
    expect(result.code).toBe(3);
    expect(oneLine(result.stderr)).toMatch(/^agentpack: .*connection refused \(is the server running\?\)/);
    expect(await readdir(dir)).toEqual([]);
  });
});
