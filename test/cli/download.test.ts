import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSigningKey, publicKeyPem } from '../../src/bundles/signing-keys.js';
import { runCaptured } from '../helpers/cli.js';
import { type FakeBundle, FakeBundleServer } from '../helpers/fake-bundle-server.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

let server: FakeBundleServer;
let scratch: string;
let java: FakeBundle;
let counter = 0;

beforeAll(async () => {
  server = await FakeBundleServer.start();
  scratch = await mkdtemp(join(tmpdir(), 'agentpack-download-'));
  java = server.publish('acme', 'java', '1.0.0', randomBytes(1024 * 1024));
});

afterAll(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  server.faults = {};
  server.onBundleBytes = undefined;
  server.onRequest = undefined;
  server.requests.length = 0;
});

/** A fresh, empty output directory per test. */
async function freshDir(): Promise<string> {
  const dir = join(scratch, `case-${++counter}`);
  await mkdir(dir);
  return dir;
}

/** Runs the CLI in-process with captured output; `tty` makes stderr claim to be a terminal. */
function cli(argv: string[], options: { env?: NodeJS.ProcessEnv; cwd: string; tty?: boolean }) {
  return runCaptured(argv, options);
}

function okLine(file: string, bundle: FakeBundle, status = 'OK'): string {
  return `${file}: ${status} sha256 ${bundle.sha256Hex}, signed by ${server.key.keyId} (${bundle.kind} ${bundle.version}, org ${bundle.orgId})\n`;
}

function javaUrl(version = '1.0.0'): string {
  return server.bundleUrl('acme', 'java', version);
}

/** Header download of java 1.0.0 into `dir` under its own name. */
function download(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = server.env()) {
  return cli(['download', javaUrl(), '-o', `${java.fileName}`, '--quiet', ...extra], { env, cwd: dir });
}

/** Compared by digest: a deep equality of megabyte buffers is slow and its diff unreadable. */
async function expectBundleAt(path: string, bundle: FakeBundle): Promise<void> {
  expect(
    createHash('sha256')
      .update(await readFile(path))
      .digest('hex'),
  ).toBe(bundle.sha256Hex);
}

/** Every secret the download had: none may ever be printed. */
function secrets(): string[] {
  const { email, serviceKey, apiKey } = server.user;
  return [serviceKey, apiKey, Buffer.from(`${email}:${serviceKey}`).toString('base64')];
}

function expectNoSecrets(text: string, more: string[] = []): void {
  for (const secret of [...secrets(), ...more]) expect(text).not.toContain(secret);
}

describe('agentpack download with header authentication', () => {
  it('writes the bundle with a .sha256 and .sig that sha256sum and openssl accept', async () => {
    const dir = await freshDir();
    const result = await download(dir);
    expect(result).toEqual({ code: 0, stdout: okLine(java.fileName, java), stderr: '' });
    await expectBundleAt(join(dir, java.fileName), java);
    expect((await readdir(dir)).sort()).toEqual(
      [java.fileName, `${java.fileName}.sha256`, `${java.fileName}.sig`].sort(),
    );

    const sums = await exec('sha256sum', ['-c', `${java.fileName}.sha256`], { cwd: dir });
    expect(sums.stdout).toBe(`${java.fileName}: OK\n`);
    await writeFile(join(dir, 'signing-key.pem'), server.publicKeyPem());
    const openssl = await exec(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        'signing-key.pem',
        '-rawin',
        '-in',
        `${java.fileName}.sha256`,
      ].concat(['-sigfile', `${java.fileName}.sig`]),
      { cwd: dir },
    );
    expect(openssl.stdout).toContain('Signature Verified Successfully');
  });

  it('sends the credentials to the API but not to the public key endpoint', async () => {
    await download(await freshDir());
    const expected = Buffer.from(`${server.user.email}:${server.user.serviceKey}`).toString('base64');
    const api = server.requests.filter((r) => r.path.startsWith('/api/'));
    expect(api.map((r) => r.path.replace(/^.*\//, ''))).toEqual(['bundle.sha256', 'bundle.sig', 'bundle']);
    for (const request of api) {
      expect(request.headers.authorization).toBe(expected);
      expect(request.headers['api-key']).toBe(server.user.apiKey);
    }
    const jwks = server.requests.filter((r) => r.path.startsWith('/.well-known/'));
    expect(jwks).toHaveLength(1);
    expect(jwks[0]?.headers.authorization).toBeUndefined();
    expect(jwks[0]?.headers['api-key']).toBeUndefined();
  });

  it('accepts AGENTPACK_AUTH already base64-encoded', async () => {
    const dir = await freshDir();
    const encoded = Buffer.from(`${server.user.email}:${server.user.serviceKey}`).toString('base64');
    const result = await download(dir, [], {
      AGENTPACK_AUTH: encoded,
      AGENTPACK_API_KEY: server.user.apiKey,
    });
    expect(result.code).toBe(0);
  });

  it('names the file after the statement when -o is a directory or absent', async () => {
    const dir = await freshDir();
    const intoDir = await cli(['download', javaUrl(), '-o', 'out/', '--quiet'], {
      env: server.env(),
      cwd: dir,
    });
    expect(intoDir).toMatchObject({
      code: 2,
      stderr: `agentpack: output directory ${join(dir, 'out')} does not exist\n`,
    });
    await mkdir(join(dir, 'out'));
    const ok = await cli(['download', javaUrl(), '-o', 'out', '--quiet'], { env: server.env(), cwd: dir });
    expect(ok.stdout).toBe(okLine(join('out', java.fileName), java));
    const here = await cli(['download', javaUrl(), '--quiet'], { env: server.env(), cwd: dir });
    expect(here.stdout).toBe(okLine(java.fileName, java));
    await expectBundleAt(join(dir, java.fileName), java);
  });

  it('downloads latest and notes when FILE is not the name the statement gives', async () => {
    const dir = await freshDir();
    const result = await cli(['download', server.bundleUrl('acme', 'java', 'latest'), '-o', 'agent.jar'], {
      env: server.env(),
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(okLine('agent.jar', java));
    expect(result.stderr).toContain(
      `note: the statement names the file ${java.fileName}; 'sha256sum -c' looks for that name\n`,
    );
  });

  it('finds the statement and signature through the Link header when the URL has another shape', async () => {
    const dir = await freshDir();
    server.aliases.set('/mirror/agent.jar', { orgId: 'acme', kind: 'java', version: '1.0.0' });
    const result = await cli(
      ['download', `${server.base}/mirror/agent.jar`, '-o', java.fileName, '--quiet'],
      {
        env: server.env(),
        cwd: dir,
      },
    );
    expect(result).toEqual({ code: 0, stdout: okLine(java.fileName, java), stderr: '' });
    expect(server.requests.map((r) => `${r.method} ${r.path.replace(/^\/api\/.*\//, '.../')}`)).toEqual([
      'HEAD /mirror/agent.jar',
      'GET .../bundle.sha256',
      'GET .../bundle.sig',
      'GET /.well-known/agentpack/jwks.json',
      'GET /mirror/agent.jar',
    ]);
    await expectBundleAt(join(dir, java.fileName), java);
  });

  it.each([
    ['the bundle', '/bundle'],
    ['the signature', '/bundle.sig'],
  ])('reads the new statement when latest moves on just before %s is served', async (_what, moment) => {
    const fake = await FakeBundleServer.start();
    try {
      fake.publish('acme', 'node', '1.0.0', randomBytes(10_000));
      let next: FakeBundle | undefined;
      fake.onRequest = (request) => {
        if (next === undefined && request.path.endsWith(moment))
          next = fake.publish('acme', 'node', '1.1.0', randomBytes(10_000));
      };
      const dir = await freshDir();
      const url = fake.bundleUrl('acme', 'node', 'latest');
      const result = await cli(['download', url, '-o', 'agent.zip', '--quiet'], {
        env: fake.env(),
        cwd: dir,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        `agent.zip: OK sha256 ${next?.sha256Hex}, signed by ${fake.key.keyId} (node 1.1.0, org acme)`,
      );
      expect(fake.requests.filter((r) => r.path.endsWith('/bundle.sha256'))).toHaveLength(2);
      if (next !== undefined) await expectBundleAt(join(dir, 'agent.zip'), next);
    } finally {
      await fake.close();
    }
  });

  it('verifies a bundle rotated after its statement was read against the statement the response names, in one request', async () => {
    const fake = await FakeBundleServer.start();
    try {
      fake.publish('acme', 'java', '1.0.0', randomBytes(10_000));
      let rotated: FakeBundle | undefined;
      fake.onRequest = (request) => {
        // A key rotation: the same version, new bytes, between the statement and the bundle.
        if (rotated === undefined && request.path.endsWith('/bundle'))
          rotated = fake.publish('acme', 'java', '1.0.0', randomBytes(10_000));
      };
      const dir = await freshDir();
      const result = await cli(['download', fake.bundleUrl('acme', 'java', 'latest'), '--quiet'], {
        env: fake.env(),
        cwd: dir,
      });
      const served = rotated as FakeBundle;
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain(`: OK sha256 ${served.sha256Hex}`);
      expect(fake.bundleRequests()).toHaveLength(1);
      expect(fake.requests.map((r) => r.path).slice(-2)).toEqual([
        new URL(fake.identityUrl(served, '.sha256')).pathname,
        new URL(fake.identityUrl(served, '.sig')).pathname,
      ]);
      await expectBundleAt(join(dir, served.fileName), served);
      expect(await readFile(join(dir, `${served.fileName}.sha256`))).toEqual(
        fake.statementOf(served).statement,
      );
    } finally {
      await fake.close();
    }
  });

  it('verifies while keys rotate before every request', async () => {
    const fake = await FakeBundleServer.start();
    try {
      fake.publish('acme', 'java', '1.0.0', randomBytes(10_000));
      const published: FakeBundle[] = [];
      fake.onRequest = (request) => {
        if (/\/agents\/.*\/bundle(\.sha256|\.sig)?$/.test(request.path))
          published.push(fake.publish('acme', 'java', '1.0.0', randomBytes(10_000)));
      };
      const dir = await freshDir();
      const result = await cli(
        ['download', fake.bundleUrl('acme', 'java', 'latest'), '-o', 'a.jar', '--quiet'],
        {
          env: fake.env(),
          cwd: dir,
        },
      );
      expect(result.stderr).toBe('');
      expect(published).toHaveLength(2);
      await expectBundleAt(join(dir, 'a.jar'), published[1] as FakeBundle);
      expect(fake.bundleRequests()).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it.each([
    ['../../.bashrc', /statement is not a valid agentpack statement: file name/],
    ['.bashrc', /the statement names the file "\.bashrc", expected a plain name/],
  ])('refuses a signed statement naming the file %s, writes nothing, exit 1', async (name, message) => {
    const fake = await FakeBundleServer.start();
    try {
      fake.publish('acme', 'java', '1.0.0', randomBytes(10_000), { statementFileName: name });
      const parent = await freshDir();
      const dir = join(parent, 'a', 'b');
      await mkdir(dir, { recursive: true });
      const result = await cli(['download', fake.bundleUrl('acme', 'java', 'latest'), '--quiet'], {
        env: { ...fake.env(), HOME: parent },
        cwd: dir,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(fake.bundleRequests()).toEqual([]);
      expect((await readdir(parent, { recursive: true })).sort()).toEqual(['a', join('a', 'b')]);
    } finally {
      await fake.close();
    }
  });

  it('prints the result as one JSON object with --json', async () => {
    const result = await download(await freshDir(), ['--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: true,
      file: java.fileName,
      sha256: java.sha256Hex,
      size: java.bytes.length,
      fileName: java.fileName,
      orgId: 'acme',
      kind: 'java',
      version: '1.0.0',
      issuedAt: '2026-11-26T14:00:00Z',
      keyId: server.key.keyId,
      unchanged: false,
      resumedFrom: 0,
    });
  });

  it('fails with one line, exit 3 and no file when the server refuses the credentials', async () => {
    const dir = await freshDir();
    const env = { ...server.env(), AGENTPACK_AUTH: `${server.user.email}:apu_wrongwrongwr_wrongwrongwrong` };
    const result = await download(dir, [], env);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `agentpack: ${javaUrl()}.sha256: HTTP 401 UNAUTHORIZED: invalid credentials (the server refused the credentials in AGENTPACK_AUTH and AGENTPACK_API_KEY)\n`,
    );
    expectNoSecrets(result.stderr, ['apu_wrongwrongwr_wrongwrongwrong']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('asks for credentials, exit 2, before sending anything when none are set', async () => {
    const result = await download(await freshDir(), [], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'agentpack: no credentials: set AGENTPACK_AUTH (email:serviceKey) and AGENTPACK_API_KEY, or use a signed link\n',
    );
    expect(server.requests).toEqual([]);
  });

  it('refuses a personal service key given as the API key without printing it', async () => {
    const env = {
      AGENTPACK_AUTH: `${server.user.email}:${server.user.serviceKey}`,
      AGENTPACK_API_KEY: server.user.serviceKey,
    };
    const result = await download(await freshDir(), [], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^agentpack: AGENTPACK_API_KEY holds a apu_ key; expected the organization API key/,
    );
    expectNoSecrets(result.stderr);
  });
});

describe('agentpack download with a signed link', () => {
  it('downloads without credentials and never prints the token', async () => {
    const dir = await freshDir();
    const link = server.link('acme', 'java', '1.0.0');
    const token = link.slice(link.indexOf('/dl/') + 4);
    const result = await cli(['download', link, '-o', java.fileName], { env: server.env(), cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(okLine(java.fileName, java));
    expect(result.stderr).not.toContain(token);
    await expectBundleAt(join(dir, java.fileName), java);
    const paths = server.requests.map((r) => r.path.replace(token, 'TOKEN'));
    expect(paths).toEqual([
      '/dl/TOKEN/bundle.sha256',
      '/dl/TOKEN/bundle.sig',
      '/.well-known/agentpack/jwks.json',
      '/dl/TOKEN',
    ]);
    for (const request of server.requests) {
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers['api-key']).toBeUndefined();
    }
  });

  it('fails with one line naming the link as /dl/… when it has expired', async () => {
    const dir = await freshDir();
    const link = server.link('acme', 'java', '1.0.0', { expired: true });
    const result = await cli(['download', link, '-o', java.fileName, '--json'], { cwd: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `agentpack: ${server.base}/dl/…/bundle.sha256: HTTP 403 LINK_INVALID: link expired (the signed link has expired or was altered; ask for a new one)\n`,
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, code: 'LINK_INVALID' });
    expect(result.stdout + result.stderr).not.toContain(link.slice(link.indexOf('/dl/') + 4));
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('agentpack download resumes an interrupted transfer', () => {
  it('keeps the part file when the connection drops and finishes it with Range on the next run', async () => {
    const dir = await freshDir();
    server.faults = { cutAfter: 300_000 };
    const first = await download(dir);
    expect(first.code).toBe(3);
    expect(first.stderr).toMatch(
      /^agentpack: http:\/\/127\.0\.0\.1:\d+\/\S+\/bundle: the server closed the connection \(UND_ERR_SOCKET\) while downloading after [\d.]+ KiB of 1\.0 MiB; run the same command again to resume\n$/,
    );
    expect(existsSync(join(dir, java.fileName))).toBe(false);
    const partSize = (await stat(join(dir, `.${java.fileName}.part`))).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThanOrEqual(300_000);

    server.faults = {};
    server.requests.length = 0;
    const second = await download(dir, ['--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ ok: true, resumedFrom: partSize });
    const [resumed] = server.bundleRequests();
    expect(resumed?.headers.range).toBe(`bytes=${partSize}-`);
    expect(resumed?.headers['if-range']).toBe(`"${java.sha256Hex}"`);
    expect(resumed?.status).toBe(206);
    expect(resumed?.bodyBytes).toBe(java.bytes.length - partSize);
    await expectBundleAt(join(dir, java.fileName), java);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('starts over cleanly when the server answers a Range request with the whole bundle', async () => {
    const dir = await freshDir();
    server.faults = { cutAfter: 200_000 };
    expect((await download(dir)).code).toBe(3);
    server.faults = { ignoreRange: true };
    server.requests.length = 0;
    const second = await download(dir);
    expect(second.code).toBe(0);
    const [request] = server.bundleRequests();
    expect(request?.headers.range).toMatch(/^bytes=\d+-$/);
    expect(request?.status).toBe(200);
    await expectBundleAt(join(dir, java.fileName), java);
  });

  it('discards a part file left by another bundle instead of resuming it', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, `.${java.fileName}.part`), randomBytes(1000));
    await writeFile(join(dir, `.${java.fileName}.part.etag`), `"${'0'.repeat(64)}"\n`);
    const result = await download(dir);
    expect(result.code).toBe(0);
    expect(server.bundleRequests()[0]?.headers.range).toBeUndefined();
    await expectBundleAt(join(dir, java.fileName), java);
  });

  it('keeps nothing after a truncated transfer with --no-resume', async () => {
    const dir = await freshDir();
    server.faults = { cutAfter: 100_000 };
    const result = await download(dir, ['--no-resume']);
    expect(result.code).toBe(3);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(/after [\d.]+ KiB of 1\.0 MiB; nothing was kept\n$/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('agentpack download with a cached ETag', () => {
  it('transfers no body when the bundle is unchanged and prints unchanged', async () => {
    const dir = await freshDir();
    expect((await download(dir)).code).toBe(0);
    const before = await stat(join(dir, java.fileName));
    server.requests.length = 0;
    const second = await download(dir);
    expect(second).toEqual({ code: 0, stdout: okLine(java.fileName, java, 'unchanged'), stderr: '' });
    const [request] = server.bundleRequests();
    expect(request?.headers['if-none-match']).toBe(`"${java.sha256Hex}"`);
    expect(request?.status).toBe(304);
    expect(request?.bodyBytes).toBe(0);
    expect((await stat(join(dir, java.fileName))).mtimeMs).toBe(before.mtimeMs);
  });

  it('downloads the whole bundle again when the copy on disk no longer matches', async () => {
    const dir = await freshDir();
    expect((await download(dir)).code).toBe(0);
    await writeFile(join(dir, java.fileName), 'damaged');
    server.requests.length = 0;
    const second = await download(dir);
    expect(second.stdout).toBe(okLine(java.fileName, java));
    expect(server.bundleRequests().map((r) => r.status)).toEqual([304, 200]);
    await expectBundleAt(join(dir, java.fileName), java);
  });

  it('replaces the file and its statement when latest moved to a new version', async () => {
    const fake = await FakeBundleServer.start();
    try {
      fake.publish('acme', 'node', '2.0.0', randomBytes(10_000));
      const dir = await freshDir();
      const url = fake.bundleUrl('acme', 'node', 'latest');
      const run = () => cli(['download', url, '-o', 'agent.zip', '--quiet'], { env: fake.env(), cwd: dir });
      expect((await run()).code).toBe(0);
      const next = fake.publish('acme', 'node', '2.1.0', randomBytes(10_000));
      const second = await run();
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(`agent.zip: OK sha256 ${next.sha256Hex}`);
      expect(fake.bundleRequests().map((r) => r.status)).toEqual([200, 200]);
      await expectBundleAt(join(dir, 'agent.zip'), next);
      expect((await readFile(join(dir, 'agent.zip.sha256'), 'utf8')).split('  ')[0]).toBe(next.sha256Hex);
    } finally {
      await fake.close();
    }
  });
});

describe('agentpack download refuses what does not verify (exit 1)', () => {
  it('discards a tampered bundle and leaves no file', async () => {
    const dir = await freshDir();
    server.faults = { tamper: true };
    const result = await download(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^agentpack: ${java.fileName.replaceAll('.', '\\.')}: digest mismatch: the signed statement says ${java.sha256Hex}, the server sent [0-9a-f]{64}; the download was discarded\\n$`,
      ),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves the file from an earlier download untouched', async () => {
    const dir = await freshDir();
    expect((await download(dir)).code).toBe(0);
    await writeFile(join(dir, `${java.fileName}.sha256`), `${'1'.repeat(64)}  ${java.fileName}\n`);
    server.faults = { tamper: true };
    expect((await download(dir)).code).toBe(1);
    await expectBundleAt(join(dir, java.fileName), java);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('refuses a statement signed by a key the server does not publish, before fetching the bundle', async () => {
    const dir = await freshDir();
    const foreign = generateSigningKey();
    server.faults = { foreignSigner: foreign };
    const result = await download(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `agentpack: statement was signed by key ${foreign.keyId}, which is not among the given keys (${server.otherKey.keyId}, ${server.key.keyId})\n`,
    );
    expect(server.bundleRequests()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a statement whose signature was made by another key', async () => {
    server.faults = { forgedBy: generateSigningKey() };
    const result = await download(await freshDir());
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`agentpack: signature does not verify with key ${server.key.keyId}\n`);
  });

  it('checks against a pinned --key instead of the server’s keys', async () => {
    const dir = await freshDir();
    const pinned = generateSigningKey();
    await writeFile(join(dir, 'pinned.pem'), publicKeyPem(pinned.publicKey));
    const wrong = await download(dir, ['--key', 'pinned.pem']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `agentpack: statement was signed by key ${server.key.keyId}, which is not among the given keys (${pinned.keyId})\n`,
    );
    expect((await readdir(dir)).sort()).toEqual(['pinned.pem']);
    await writeFile(join(dir, 'right.pem'), server.publicKeyPem());
    server.requests.length = 0;
    expect((await download(dir, ['--key', 'right.pem'])).code).toBe(0);
    expect(server.requests.some((r) => r.path.startsWith('/.well-known/'))).toBe(false);
  });
});

describe('agentpack download when the network or server fails (exit 3)', () => {
  it('says in one line that nothing listens at the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const dir = await freshDir();
    const url = `http://127.0.0.1:${port}/api/v1/orgs/acme/agents/java/1.0.0/bundle`;
    const result = await cli(['download', url, '-o', 'a.jar'], { env: server.env(), cwd: dir });
    expect(result).toEqual({
      code: 3,
      stdout: '',
      stderr: `agentpack: ${url}.sha256: connection refused (is the server running?) (ECONNREFUSED) while connecting\n`,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports a server error and an unknown version with their status', async () => {
    server.faults = { failWith: 503 };
    const down = await download(await freshDir());
    expect(down.code).toBe(3);
    expect(down.stderr).toBe(
      `agentpack: ${javaUrl()}.sha256: HTTP 503 FAULT: injected failure (a server error; retry later)\n`,
    );
    server.faults = {};
    const missing = await cli(['download', javaUrl('9.9.9'), '--quiet'], {
      env: server.env(),
      cwd: await freshDir(),
    });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/: HTTP 404 NOT_FOUND: no such agent version \(no such organization/);
  });

  it('refuses a URL that is not http(s) or carries credentials, exit 2', async () => {
    const dir = await freshDir();
    expect((await cli(['download', 'ftp://x/bundle'], { cwd: dir })).stderr).toBe(
      'agentpack: download: expected an http(s) URL, found a ftp: URL\n',
    );
    const withUser = await cli(['download', 'http://me:pw@127.0.0.1/dl/x'], { cwd: dir });
    expect(withUser).toMatchObject({ code: 2, stdout: '' });
    expect(withUser.stderr).not.toContain('pw');
  });
});

describe('agentpack download progress', () => {
  it('prints plain lines when stderr is not a terminal', async () => {
    const dir = await freshDir();
    const result = await cli(['download', javaUrl(), '-o', java.fileName], { env: server.env(), cwd: dir });
    expect(result.code).toBe(0);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`downloading ${java.fileName} (1.0 MiB)`);
    expect(lines.at(-1)).toMatch(/^downloaded 1\.0 MiB in \d+\.\d s \([\d.]+ \w+\/s\)$/);
    const percents = lines.slice(1, -1).map((line) => Number(/^\s*(\d+)%/.exec(line)?.[1]));
    expect(percents.length).toBeGreaterThan(0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(result.stderr).not.toContain('\r');
  });

  it('redraws one line with \\r on a terminal and ends it once', async () => {
    const dir = await freshDir();
    const result = await cli(['download', javaUrl(), '-o', java.fileName], {
      env: server.env(),
      cwd: dir,
      tty: true,
    });
    expect(result.code).toBe(0);
    expect(result.stderr.startsWith('\r')).toBe(true);
    expect(result.stderr.endsWith('\n')).toBe(true);
    expect(result.stderr.split('\n')).toHaveLength(2);
    const last = result.stderr.trimEnd().split('\r').at(-1) ?? '';
    // Each redraw clears what a longer previous line left behind (ESC [ K).
    expect(last.endsWith('\u001b[K')).toBe(true);
    expect(last.slice(0, -3)).toMatch(/\[#{20}\] 100% {2}1\.0 MiB \/ 1\.0 MiB {2}[\d.]+ \w+\/s {2}ETA 0:00$/);
  });

  it('ends the progress line before the error on a terminal', async () => {
    server.faults = { tamper: true };
    const result = await cli(['download', javaUrl(), '-o', java.fileName], {
      env: server.env(),
      cwd: await freshDir(),
      tty: true,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n\n?agentpack: .*digest mismatch.*\n$/);
  });
});

describe('agentpack download --help', () => {
  it('documents the exit codes', async () => {
    const result = await cli(['download', '--help'], { cwd: scratch });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Exit status: 0 downloaded (or unchanged), 1 the bundle or its statement',
    );
  });
});

describe('agentpack download as a real process', () => {
  const sources = [
    'cli/run',
    'cli/commands/download',
    ...['auth', 'download', 'errors', 'http', 'keys', 'part-file', 'progress', 'urls', 'verification'].map(
      (name) => `client/${name}`,
    ),
  ];

  beforeAll(async () => {
    const stale = sources.some((name) => {
      const built = join(root, 'dist', `${name}.js`);
      return (
        !existsSync(built) || statSync(built).mtimeMs < statSync(join(root, 'src', `${name}.ts`)).mtimeMs
      );
    });
    if (!stale && existsSync(join(root, 'dist/cli/main.js'))) return;
    // tsc still emits when another part of the tree has a type error; the check below is what matters.
    await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
    for (const name of sources) expect(existsSync(join(root, 'dist', `${name}.js`))).toBe(true);
  });

  it('removes the part file and exits 130 on Ctrl-C', async () => {
    const dir = await freshDir();
    server.faults = { stallAfter: 256 * 1024 };
    const child = spawn(
      'node',
      [join(root, 'bin/agentpack.js'), 'download', javaUrl(), '-o', java.fileName],
      {
        cwd: dir,
        env: { ...process.env, ...server.env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const part = join(dir, `.${java.fileName}.part`);
    // Wait until the client has written the stalled bytes, then interrupt it mid-transfer.
    while ((await stat(part).catch(() => undefined))?.size !== 256 * 1024)
      await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      'agentpack: interrupted; the partial download was removed',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('downloads and verifies with the bundle checked by sha256sum afterwards', async () => {
    const dir = await freshDir();
    const result = await exec(
      'node',
      [join(root, 'bin/agentpack.js'), 'download', javaUrl(), '-o', java.fileName],
      {
        cwd: dir,
        env: { ...process.env, ...server.env() },
      },
    );
    expect(result.stdout).toBe(okLine(java.fileName, java));
    expect(result.stderr).toMatch(/^downloading .*\ndownloaded 1\.0 MiB in/s);
    expectNoSecrets(result.stdout + result.stderr);
    const sums = await exec('sha256sum', ['-c', `${java.fileName}.sha256`], { cwd: dir });
    expect(sums.stdout).toBe(`${java.fileName}: OK\n`);
    const digest = createHash('sha256')
      .update(await readFile(join(dir, java.fileName)))
      .digest('hex');
    expect(digest).toBe(java.sha256Hex);
  });
});
