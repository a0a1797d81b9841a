import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildStatement,
  parseStatement,
  type StatementFields,
  sha256File,
  signStatement,
  VerificationError,
  verifyBundle,
  verifyStatement,
} from '../../src/bundles/signature.js';
import { generateSigningKey, publicKeyPem, type SigningKey } from '../../src/bundles/signing-keys.js';
import { AgentpackError } from '../../src/common/errors.js';

const exec = promisify(execFile);

const fixedFields: StatementFields = {
  sha256Hex: 'a'.repeat(64),
  fileName: 'agent-java-1.2.3-acme.jar',
  orgId: 'org_acme',
  kind: 'java',
  version: '1.2.3',
  issuedAt: new Date('2026-11-26T14:00:00Z'),
  keyId: '0123456789abcdef',
};

let dir: string;
let key: SigningKey;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-signature-'));
  key = generateSigningKey();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a bundle with its statement and signature, as the service would serve them. */
async function signedBundle(name: string, options: { orgId?: string; bytes?: Buffer } = {}) {
  const bytes = options.bytes ?? randomBytes(300_000);
  const file = join(dir, name);
  await writeFile(file, bytes);
  const statement = buildStatement({
    sha256Hex: createHash('sha256').update(bytes).digest('hex'),
    fileName: name,
    orgId: options.orgId ?? 'org_acme',
    kind: 'java',
    version: '1.2.3',
    issuedAt: new Date('2026-11-26T14:00:00.789Z'),
    keyId: key.keyId,
  });
  const signature = signStatement(statement, key);
  await writeFile(`${file}.sha256`, statement);
  await writeFile(`${file}.sig`, signature);
  return { file, bytes, statement, signature };
}

async function verifyError(promise: Promise<unknown>): Promise<VerificationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VerificationError);
  return error as VerificationError;
}

describe('buildStatement', () => {
  it('writes the sha256sum line and the comment lines in the agreed order', () => {
    expect(buildStatement(fixedFields).toString('utf8')).toBe(
      [
        `${'a'.repeat(64)}  agent-java-1.2.3-acme.jar`,
        '# agentpack-statement: v1',
        '# org: org_acme',
        '# kind: java',
        '# version: 1.2.3',
        '# issued-at: 2026-11-26T14:00:00Z',
        '# key-id: 0123456789abcdef',
        '',
      ].join('\n'),
    );
  });

  it('drops milliseconds from the time of issue', () => {
    const statement = buildStatement({ ...fixedFields, issuedAt: new Date('2026-11-26T14:00:00.999Z') });
    expect(statement.toString()).toContain('# issued-at: 2026-11-26T14:00:00Z\n');
  });

  it('reads back to the same fields', () => {
    expect(parseStatement(buildStatement(fixedFields))).toEqual(fixedFields);
  });

  const hostile: Array<[string, Partial<StatementFields>, RegExp]> = [
    ['a newline in the org', { orgId: 'acme\n# org: evil' }, /^org: expected no control/],
    ['a carriage return in the kind', { kind: 'java\r' }, /^kind: /],
    ['a unicode line separator in the version', { version: '1.0\u2028# key-id: x' }, /^version: /],
    ['a NEL (C1 control) in the org', { orgId: 'acme\u0085x' }, /^org: /],
    ['a bidi override in the org', { orgId: 'acme\u202eevil' }, /^org: /],
    ['surrounding spaces in the version', { version: ' 1.0' }, /^version: /],
    ['an empty org', { orgId: '' }, /^org: expected 1 to 256 characters, found 0/],
    ['a very long kind', { kind: 'k'.repeat(257) }, /^kind: expected 1 to 256/],
    ['a newline in the file name', { fileName: 'a.jar\nb' }, /^file name: /],
    ['a space in the file name', { fileName: 'my agent.jar' }, /^file name: /],
    ['a slash in the file name', { fileName: '../etc/passwd' }, /^file name: /],
    ['a backslash in the file name', { fileName: '\\a.jar' }, /^file name: /],
    ['a file name of ..', { fileName: '..' }, /^file name: /],
    ['an uppercase digest', { sha256Hex: 'A'.repeat(64) }, /^sha256: expected 64 lowercase hex/],
    ['a short digest', { sha256Hex: 'a'.repeat(63) }, /^sha256: /],
    ['a digest with a newline', { sha256Hex: `${'a'.repeat(64)}\n` }, /^sha256: /],
    ['a key id with a newline', { keyId: '0123456789abcdef\n# x' }, /^key-id: /],
    ['an invalid date', { issuedAt: new Date('nope') }, /^issued-at: /],
  ];
  for (const [what, change, message] of hostile) {
    it(`refuses ${what}, so no field can add or alter a line`, () => {
      let caught: unknown;
      try {
        buildStatement({ ...fixedFields, ...change });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AgentpackError);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain('\n');
    });
  }

  it('accepts non-ASCII printable text in org, kind and version', () => {
    const fields = { ...fixedFields, orgId: 'société-ü', version: '2.0-β' };
    expect(parseStatement(buildStatement(fields))).toEqual(fields);
  });
});

describe('parseStatement', () => {
  const good = buildStatement(fixedFields).toString('utf8');
  const lines = good.slice(0, -1).split('\n');
  const corrupt: Array<[string, string, RegExp]> = [
    ['an extra line', `${good}# extra: 1\n`, /expected 7 lines, found 8/],
    ['a missing line', `${lines.slice(0, 6).join('\n')}\n`, /expected 7 lines, found 6/],
    [
      'lines out of order',
      `${[lines[0], lines[1], lines[3], lines[2], ...lines.slice(4)].join('\n')}\n`,
      /line 3: expected '# org: ...', found "# kind: java"/,
    ],
    ['CRLF line ends', good.replaceAll('\n', '\r\n'), /line 1: expected/],
    ['no final newline', good.slice(0, -1), /expected it to end with a newline/],
    [
      'binary-mode marker',
      good.replace('  agent', ' *agent'),
      /line 1: expected '<64 lowercase hex> {2}<file name>'/,
    ],
    ['an unknown statement version', good.replace('v1', 'v2'), /expected statement version v1, found "v2"/],
    ['milliseconds in issued-at', good.replace('14:00:00Z', '14:00:00.000Z'), /issued-at: expected UTC time/],
    ['an impossible date', good.replace('2026-11-26', '2026-02-30'), /issued-at: expected UTC time/],
    ['a time zone offset', good.replace('14:00:00Z', '14:00:00+01:00'), /issued-at: expected UTC time/],
    ['a blank line', `${good}\n`, /expected 7 lines, found 8/],
    ['uppercase hex', good.replace('a'.repeat(64), 'A'.repeat(64)), /line 1: /],
    ['a short key id', good.replace('0123456789abcdef', '0123'), /key-id: expected 16 lowercase hex/],
    ['an empty org', good.replace('# org: org_acme', '# org: '), /org: expected 1 to 256 characters/],
  ];
  for (const [what, text, message] of corrupt) {
    it(`rejects a statement with ${what}`, () => {
      expect(() => parseStatement(Buffer.from(text, 'utf8'))).toThrow(message);
    });
  }

  it('rejects bytes that are not UTF-8', () => {
    const bytes = Buffer.from(good.replace('org_acme', 'org_XXXX'), 'utf8');
    bytes[bytes.indexOf('XXXX')] = 0xff;
    expect(() => parseStatement(bytes)).toThrow(/expected UTF-8 text/);
  });

  it('rejects a file far larger than any statement without decoding it', () => {
    expect(() => parseStatement(Buffer.alloc(10_000, 0x41))).toThrow(
      /expected at most 4096 bytes, found 10000/,
    );
  });
});

describe('signStatement and verifyStatement', () => {
  it('produce and accept a raw 64-byte Ed25519 signature', () => {
    const statement = buildStatement({ ...fixedFields, keyId: key.keyId });
    const signature = signStatement(statement, key);
    expect(signature).toHaveLength(64);
    expect(verifyStatement(statement, signature, key.publicKey)).toBe(true);
  });

  it('reject the signature under another key', () => {
    const statement = buildStatement({ ...fixedFields, keyId: key.keyId });
    const signature = signStatement(statement, key);
    expect(verifyStatement(statement, signature, generateSigningKey().publicKey)).toBe(false);
  });

  it('reject a signature of the wrong length instead of throwing', () => {
    const statement = buildStatement(fixedFields);
    expect(verifyStatement(statement, Buffer.alloc(63), key.publicKey)).toBe(false);
  });
});

describe('verifyBundle', () => {
  it('accepts an untouched bundle and reports what the statement binds', async () => {
    const { file, bytes, statement, signature } = await signedBundle('good.jar');
    const result = await verifyBundle({
      file,
      statement,
      signature,
      publicKeys: new Map([[key.keyId, key.publicKey]]),
    });
    expect(result).toMatchObject({
      file,
      sha256Hex: createHash('sha256').update(bytes).digest('hex'),
      fileName: 'good.jar',
      fileNameMatches: true,
      orgId: 'org_acme',
      kind: 'java',
      version: '1.2.3',
      keyId: key.keyId,
    });
    expect(result.issuedAt.toISOString()).toBe('2026-11-26T14:00:00.000Z');
  });

  it('accepts a single public key and finds its id itself', async () => {
    const { file, statement, signature } = await signedBundle('single-key.jar');
    await expect(
      verifyBundle({ file, statement, signature, publicKeys: key.publicKey }),
    ).resolves.toMatchObject({
      keyId: key.keyId,
    });
  });

  it('accepts a renamed download but reports that the name differs', async () => {
    const { bytes, statement, signature } = await signedBundle('original.jar');
    const renamed = join(dir, 'original (1).jar');
    await writeFile(renamed, bytes);
    const result = await verifyBundle({ file: renamed, statement, signature, publicKeys: key.publicKey });
    expect(result.fileNameMatches).toBe(false);
    expect(result.fileName).toBe('original.jar');
  });

  it('fails when one byte of the bundle changed, naming both digests', async () => {
    const { file, bytes, statement, signature } = await signedBundle('tampered.jar');
    const changed = Buffer.from(bytes);
    changed[150_000] = (changed[150_000] as number) ^ 0x01;
    await writeFile(file, changed);
    const expected = createHash('sha256').update(bytes).digest('hex');
    const actual = createHash('sha256').update(changed).digest('hex');
    const error = await verifyError(verifyBundle({ file, statement, signature, publicKeys: key.publicKey }));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toBe(`digest mismatch: statement says ${expected}, file has ${actual}`);
  });

  it("fails with another bundle's signature", async () => {
    const a = await signedBundle('a.jar');
    const b = await signedBundle('b.jar');
    const error = await verifyError(
      verifyBundle({
        file: a.file,
        statement: a.statement,
        signature: b.signature,
        publicKeys: key.publicKey,
      }),
    );
    expect(error.message).toBe(`signature does not verify with key ${key.keyId}`);
  });

  it("fails with another bundle's statement and signature (digest differs)", async () => {
    const a = await signedBundle('a2.jar');
    const b = await signedBundle('b2.jar');
    const error = await verifyError(
      verifyBundle({
        file: a.file,
        statement: b.statement,
        signature: b.signature,
        publicKeys: key.publicKey,
      }),
    );
    expect(error.message).toMatch(/^digest mismatch: statement says [0-9a-f]{64}, file has [0-9a-f]{64}$/);
  });

  it('fails when the statement was edited to name another organization', async () => {
    const { file, statement, signature } = await signedBundle('edited.jar');
    const edited = Buffer.from(
      statement.toString('utf8').replace('# org: org_acme', '# org: org_evil'),
      'utf8',
    );
    expect(parseStatement(edited).orgId).toBe('org_evil');
    const error = await verifyError(
      verifyBundle({ file, statement: edited, signature, publicKeys: key.publicKey }),
    );
    expect(error.code).toBe('SIGNATURE_INVALID');
    expect(error.message).toBe(`signature does not verify with key ${key.keyId}`);
  });

  it('fails when the statement names a key that was not given', async () => {
    const { file, statement, signature } = await signedBundle('other-key.jar');
    const other = generateSigningKey();
    const error = await verifyError(
      verifyBundle({ file, statement, signature, publicKeys: other.publicKey }),
    );
    expect(error.code).toBe('SIGNING_KEY_UNKNOWN');
    expect(error.message).toBe(
      `statement was signed by key ${key.keyId}, which is not among the given keys (${other.keyId})`,
    );
  });

  it('fails when a statement signed by one key claims the id of another', async () => {
    const other = generateSigningKey();
    const bytes = randomBytes(1000);
    const file = join(dir, 'forged-id.jar');
    await writeFile(file, bytes);
    const statement = buildStatement({
      ...fixedFields,
      sha256Hex: createHash('sha256').update(bytes).digest('hex'),
      fileName: 'forged-id.jar',
      keyId: other.keyId,
    });
    const signature = signStatement(statement, key);
    const publicKeys = new Map([
      [key.keyId, key.publicKey],
      [other.keyId, other.publicKey],
    ]);
    const error = await verifyError(verifyBundle({ file, statement, signature, publicKeys }));
    expect(error.message).toBe(`signature does not verify with key ${other.keyId}`);
  });

  it('fails on a truncated signature with its size', async () => {
    const { file, statement, signature } = await signedBundle('short-sig.jar');
    const error = await verifyError(
      verifyBundle({ file, statement, signature: signature.subarray(0, 40), publicKeys: key.publicKey }),
    );
    expect(error.message).toBe('expected a raw 64-byte Ed25519 signature, found 40 bytes');
  });
});

describe('sha256File', () => {
  it('agrees with sha256sum on a multi-chunk file', async () => {
    const file = join(dir, 'big.bin');
    await writeFile(file, randomBytes(5 * 1024 * 1024 + 17));
    const { stdout } = await exec('sha256sum', [file]);
    expect(await sha256File(file)).toBe(stdout.split(' ')[0]);
  });
});

describe('the statement and signature with standard tools', () => {
  async function prepared(name: string) {
    const bundle = await signedBundle(name);
    const keyFile = join(dir, 'signing-key.pem');
    await writeFile(keyFile, publicKeyPem(key.publicKey));
    return { ...bundle, keyFile };
  }

  function openssl(keyFile: string, statementFile: string, signatureFile: string) {
    return exec('openssl', [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      keyFile,
      '-rawin',
      '-in',
      statementFile,
      '-sigfile',
      signatureFile,
    ]).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  }

  function sha256sum(statementFile: string) {
    return exec('sha256sum', ['-c', statementFile], { cwd: dir }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  }

  it('sha256sum -c accepts the statement file as is', async () => {
    const { file } = await prepared('tools-ok.jar');
    const result = await sha256sum(`${file}.sha256`);
    expect(result).toEqual({ code: 0, stdout: 'tools-ok.jar: OK\n' });
  });

  it('openssl pkeyutl verifies the signature with the published PEM', async () => {
    const { file, keyFile } = await prepared('tools-sig.jar');
    const result = await openssl(keyFile, `${file}.sha256`, `${file}.sig`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Signature Verified Successfully');
  });

  it('sha256sum -c fails after one byte of the bundle changed', async () => {
    const { file, bytes } = await prepared('tools-bad-bundle.jar');
    const changed = Buffer.from(bytes);
    changed[0] = (changed[0] as number) ^ 0x80;
    await writeFile(file, changed);
    const result = await sha256sum(`${file}.sha256`);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('tools-bad-bundle.jar: FAILED\n');
  });

  it('openssl pkeyutl fails after one byte of the statement changed', async () => {
    const { file, keyFile } = await prepared('tools-bad-statement.jar');
    const statement = await readFile(`${file}.sha256`);
    statement[statement.indexOf('org_acme')] = 'O'.charCodeAt(0);
    await writeFile(`${file}.sha256`, statement);
    const result = await openssl(keyFile, `${file}.sha256`, `${file}.sig`);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('Signature Verification Failure');
  });
});
