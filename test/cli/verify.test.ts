import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStatement, signStatement } from '../../src/bundles/signature.js';
import {
  generateSigningKey,
  jwksDocument,
  publicKeyPem,
  type SigningKey,
} from '../../src/bundles/signing-keys.js';
import { runCaptured } from '../helpers/cli.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let key: SigningKey;
let keyFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-verify-'));
  key = generateSigningKey();
  keyFile = join(dir, 'signing-key.pem');
  await writeFile(keyFile, publicKeyPem(key.publicKey));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI in-process with captured output. */
function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return runCaptured(argv, { env, cwd: dir });
}

/** A bundle beside its `.sha256` and `.sig`, as downloaded from the service. */
async function download(name: string, signer: SigningKey = key) {
  const bytes = randomBytes(50_000);
  const sha256Hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(dir, name), bytes);
  const statement = buildStatement({
    sha256Hex,
    fileName: name,
    orgId: 'org_acme',
    kind: 'java',
    version: '1.2.3',
    issuedAt: new Date('2026-11-26T14:00:00Z'),
    keyId: signer.keyId,
  });
  await writeFile(join(dir, `${name}.sha256`), statement);
  await writeFile(join(dir, `${name}.sig`), signStatement(statement, signer));
  return { bytes, sha256Hex };
}

function okLine(name: string, sha256Hex: string): string {
  return `OK ${name}: sha256 ${sha256Hex}, signed by ${key.keyId} for org org_acme, java 1.2.3, issued 2026-11-26T14:00:00Z\n`;
}

describe('agentpack verify FILE --key PEM', () => {
  it('prints one OK line and exits 0 for an untouched bundle, finding FILE.sha256 and FILE.sig itself', async () => {
    const { sha256Hex } = await download('ok.jar');
    const result = await cli(['verify', 'ok.jar', '--key', 'signing-key.pem']);
    expect(result).toEqual({ code: 0, stdout: okLine('ok.jar', sha256Hex), stderr: '' });
  });

  it('takes the statement and signature from --sha256 and --sig', async () => {
    const { sha256Hex } = await download('explicit.jar');
    const result = await cli([
      'verify',
      'explicit.jar',
      '--sha256',
      join(dir, 'explicit.jar.sha256'),
      '--sig=explicit.jar.sig',
      '--key',
      keyFile,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(okLine('explicit.jar', sha256Hex));
  });

  it('uses the PEM named by AGENTPACK_SIGNING_KEY when --key is absent', async () => {
    await download('env.jar');
    const result = await cli(['verify', 'env.jar'], { AGENTPACK_SIGNING_KEY: keyFile });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^OK env\.jar: /);
  });

  it('prints the result as JSON with --json', async () => {
    const { sha256Hex } = await download('json.jar');
    const result = await cli(['verify', 'json.jar', '--key', keyFile, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: true,
      file: 'json.jar',
      sha256: sha256Hex,
      fileName: 'json.jar',
      fileNameMatches: true,
      orgId: 'org_acme',
      kind: 'java',
      version: '1.2.3',
      issuedAt: '2026-11-26T14:00:00Z',
      keyId: key.keyId,
    });
  });

  it('verifies a renamed download and notes the name the statement gives', async () => {
    const { bytes, sha256Hex } = await download('named.jar');
    await writeFile(join(dir, 'renamed.jar'), bytes);
    const result = await cli([
      'verify',
      'renamed.jar',
      '--sha256',
      'named.jar.sha256',
      '--sig',
      'named.jar.sig',
      '--key',
      keyFile,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(okLine('renamed.jar', sha256Hex));
    expect(result.stderr).toBe('note: the statement names the file named.jar; this one is renamed.jar\n');
  });
});

describe('agentpack verify on a bad bundle (exit 1)', () => {
  it('fails when one byte of the bundle changed', async () => {
    const { bytes, sha256Hex } = await download('tampered.jar');
    bytes[1234] = (bytes[1234] as number) ^ 0xff;
    await writeFile(join(dir, 'tampered.jar'), bytes);
    const actual = createHash('sha256').update(bytes).digest('hex');
    const result = await cli(['verify', 'tampered.jar', '--key', keyFile]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `agentpack: tampered.jar: digest mismatch: statement says ${sha256Hex}, file has ${actual}\n`,
    });
  });

  it('fails when the statement was edited', async () => {
    await download('edited.jar');
    const statementFile = join(dir, 'edited.jar.sha256');
    const text = await readFile(statementFile, 'utf8');
    await writeFile(statementFile, text.replace('# version: 1.2.3', '# version: 9.9.9'));
    const result = await cli(['verify', 'edited.jar', '--key', keyFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`agentpack: edited.jar: signature does not verify with key ${key.keyId}\n`);
  });

  it("fails with another bundle's signature", async () => {
    await download('first.jar');
    await download('second.jar');
    const result = await cli(['verify', 'first.jar', '--sig', 'second.jar.sig', '--key', keyFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`agentpack: first.jar: signature does not verify with key ${key.keyId}\n`);
  });

  it('fails when the bundle was signed by a key other than the given one', async () => {
    const other = generateSigningKey();
    await download('foreign.jar', other);
    const result = await cli(['verify', 'foreign.jar', '--key', keyFile, '--json']);
    expect(result.code).toBe(1);
    const message = `statement was signed by key ${other.keyId}, which is not among the given keys (${key.keyId})`;
    expect(result.stderr).toBe(`agentpack: foreign.jar: ${message}\n`);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      file: 'foreign.jar',
      code: 'SIGNING_KEY_UNKNOWN',
      error: message,
    });
  });

  it('fails on a statement that is not one', async () => {
    await download('garbage.jar');
    await writeFile(join(dir, 'garbage.jar.sha256'), 'hello\n');
    const result = await cli(['verify', 'garbage.jar', '--key', keyFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^agentpack: garbage\.jar: statement is not a valid agentpack statement: /);
  });

  it('fails on a signature file that is far too large, without reading it', async () => {
    await download('bigsig.jar');
    await writeFile(join(dir, 'bigsig.jar.sig'), Buffer.alloc(100_000));
    const result = await cli(['verify', 'bigsig.jar', '--key', keyFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'agentpack: bigsig.jar: signature bigsig.jar.sig: expected a raw 64-byte Ed25519 signature, found 100000 bytes\n',
    );
  });
});

describe('agentpack verify usage errors (exit 2)', () => {
  it('names the missing signature file and the option to give it', async () => {
    await download('nosig.jar');
    await rm(join(dir, 'nosig.jar.sig'));
    const result = await cli(['verify', 'nosig.jar', '--key', keyFile]);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'agentpack: no signature file nosig.jar.sig (give --sig F)\n',
    });
  });

  it('names a missing bundle', async () => {
    const result = await cli(['verify', 'absent.jar', '--key', keyFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('agentpack: no bundle file absent.jar\n');
  });

  it('asks for a key when neither --key nor AGENTPACK_SIGNING_KEY is given', async () => {
    await download('nokey.jar');
    const result = await cli(['verify', 'nokey.jar']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^agentpack: no signing key given: pass --key FILE\|URL or set AGENTPACK_SIGNING_KEY/,
    );
  });

  it('refuses a key file that is not an Ed25519 key', async () => {
    await download('badkey.jar');
    await writeFile(join(dir, 'not-a-key.pem'), 'hello\n');
    const result = await cli(['verify', 'badkey.jar', '--key', 'not-a-key.pem']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'agentpack: key not-a-key.pem: expected a PEM (-----BEGIN PUBLIC KEY-----) or a JWKS document, found neither\n',
    );
  });

  it('refuses no FILE, two FILEs and unknown options', async () => {
    expect((await cli(['verify', '--key', keyFile])).stderr).toBe(
      'agentpack: verify: expected one FILE, found 0 (try --help)\n',
    );
    expect((await cli(['verify', 'a', 'b'])).code).toBe(2);
    expect(await cli(['verify', 'a', '--signature', 'x'])).toMatchObject({
      code: 2,
      stderr: 'agentpack: unknown option --signature\n',
    });
  });

  it('prints its help with --help', async () => {
    const result = await cli(['verify', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^usage: agentpack verify FILE \[--sha256 F\] \[--sig F\] \[--key F\|URL\] \[--json\]/,
    );
  });
});

describe('agentpack verify --key URL', () => {
  let server: Server;
  let base: string;
  const served = new Map<string, string>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const body = served.get(request.url ?? '');
      if (body === undefined) {
        response.writeHead(404).end('not found');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('verifies with a JWKS served over HTTP, picking the key by id', async () => {
    served.set('/jwks.json', JSON.stringify(jwksDocument([generateSigningKey(), key])));
    const { sha256Hex } = await download('jwks.jar');
    const result = await cli(['verify', 'jwks.jar', '--key', `${base}/jwks.json`]);
    expect(result).toEqual({ code: 0, stdout: okLine('jwks.jar', sha256Hex), stderr: '' });
  });

  it('verifies with a PEM served over HTTP', async () => {
    served.set('/signing-key.pem', publicKeyPem(key.publicKey));
    await download('pem-url.jar');
    const result = await cli(['verify', 'pem-url.jar', '--key', `${base}/signing-key.pem`]);
    expect(result.code).toBe(0);
  });

  it('fails with the status when the URL answers an error, without echoing its query', async () => {
    await download('http404.jar');
    const result = await cli(['verify', 'http404.jar', '--key', `${base}/missing.pem?token=s3cret`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `agentpack: could not fetch the signing key from ${base}/missing.pem: HTTP 404\n`,
    );
  });

  it('fails clearly when nothing listens at the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await download('unreachable.jar');
    const result = await cli(['verify', 'unreachable.jar', '--key', `http://127.0.0.1:${port}/jwks.json`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `agentpack: could not fetch the signing key from http://127.0.0.1:${port}/jwks.json: ECONNREFUSED\n`,
    );
  });
});

describe('agentpack verify as a real process', () => {
  const sources = ['cli/commands/verify', 'bundles/signature', 'bundles/signing-keys', 'cli/run'];

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

  it('exits 0 and prints OK for a good bundle, 1 after tampering', async () => {
    const { bytes, sha256Hex } = await download('process.jar');
    const bin = join(root, 'bin/agentpack.js');
    const ok = await exec('node', [bin, 'verify', 'process.jar', '--key', keyFile], { cwd: dir });
    expect(ok.stdout).toBe(okLine('process.jar', sha256Hex));
    bytes[0] = (bytes[0] as number) ^ 0x01;
    await writeFile(join(dir, 'process.jar'), bytes);
    const failed = await exec('node', [bin, 'verify', 'process.jar', '--key', keyFile], { cwd: dir }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^agentpack: process\.jar: digest mismatch: statement says [0-9a-f]{64}, file has/,
    );
  });
});
