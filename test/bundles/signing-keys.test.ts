import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildStatement, signStatement, verifyStatement } from '../../src/bundles/signature.js';
import {
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  jwksDocument,
  KEYRING_FILE,
  keyIdOf,
  keyringPublicKeys,
  loadKeyring,
  loadOrCreateKeyring,
  parseKeyring,
  publicKeyFromJwk,
  publicKeyFromPem,
  publicKeyPem,
  publicKeysFromJwks,
  rotateSigningKey,
  serializeKeyring,
  toJwk,
} from '../../src/bundles/signing-keys.js';
import { NotFoundError } from '../../src/common/errors.js';

const exec = promisify(execFile);

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-signing-keys-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('key ids', () => {
  it('are the first 16 hex chars of the SHA-256 of the raw public key, as openssl computes it', async () => {
    const key = generateSigningKey();
    const pemFile = join(dir, 'key.pem');
    await writeFile(pemFile, publicKeyPem(key.publicKey));
    const { stdout } = await exec('openssl', ['pkey', '-pubin', '-in', pemFile, '-outform', 'DER'], {
      encoding: 'buffer',
    });
    // An Ed25519 SPKI is a fixed 12-byte header followed by the raw 32-byte key.
    const raw = stdout.subarray(stdout.length - 32);
    expect(key.keyId).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('are the same for a private key and its public half', () => {
    const key = generateSigningKey();
    expect(keyIdOf(key.privateKey)).toBe(key.keyId);
  });
});

describe('exportSigningKey and importSigningKey', () => {
  it('round-trip a key that still signs and verifies', () => {
    const key = generateSigningKey(new Date('2026-01-02T03:04:05Z'));
    const exported = exportSigningKey(key);
    expect(exported.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(exported.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const imported = importSigningKey(exported);
    expect(imported.keyId).toBe(key.keyId);
    expect(imported.createdAt).toBe('2026-01-02T03:04:05.000Z');
    const statement = buildStatement({
      sha256Hex: '0'.repeat(64),
      fileName: 'x.jar',
      orgId: 'o',
      kind: 'java',
      version: '1',
      issuedAt: new Date(),
      keyId: key.keyId,
    });
    expect(verifyStatement(statement, signStatement(statement, imported), key.publicKey)).toBe(true);
  });

  it('refuse a key whose stated id is not the one derived from it', () => {
    const exported = { ...exportSigningKey(generateSigningKey()), keyId: 'ffffffffffffffff' };
    expect(() => importSigningKey(exported)).toThrow(
      /expected the id derived from its key, found [0-9a-f]{16}/,
    );
  });

  it('refuse a public PEM that belongs to another key', () => {
    const other = generateSigningKey();
    const exported = {
      ...exportSigningKey(generateSigningKey()),
      publicKeyPem: publicKeyPem(other.publicKey),
    };
    expect(() => importSigningKey(exported)).toThrow(`its public key PEM belongs to key ${other.keyId}`);
  });

  it('refuse a key of another algorithm', () => {
    const rsa = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const exported = {
      ...exportSigningKey(generateSigningKey()),
      privateKeyPem: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
    expect(() => importSigningKey(exported)).toThrow(/expected an Ed25519 key, found ec/);
  });
});

describe('publicKeyFromPem', () => {
  it('reads the PEM that openssl uses and derives the same id', () => {
    const key = generateSigningKey();
    expect(publicKeyFromPem(publicKeyPem(key.publicKey)).keyId).toBe(key.keyId);
  });

  it('never exports private material from a private key', () => {
    const key = generateSigningKey();
    const pem = publicKeyPem(key.privateKey);
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(pem).not.toContain('PRIVATE');
  });

  it('refuses text that is not a PEM, and an RSA key', () => {
    expect(() => publicKeyFromPem('hello')).toThrow(/expected an Ed25519 public key PEM/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => publicKeyFromPem(rsa.publicKey.export({ format: 'pem', type: 'spki' }))).toThrow(
      /expected an Ed25519 key, found rsa/,
    );
  });
});

describe('JWK and JWKS', () => {
  it('publish an OKP/Ed25519 key with kid, use and alg and nothing private', () => {
    const key = generateSigningKey();
    const jwk = toJwk(key.privateKey, key.keyId);
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.keyId, use: 'sig', alg: 'EdDSA' });
    expect(Buffer.from(jwk.x, 'base64url')).toHaveLength(32);
  });

  it('read back from a JWKS document to the same keys by id', () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    const document = JSON.parse(JSON.stringify(jwksDocument([a, b])));
    const keys = publicKeysFromJwks(document);
    expect([...keys.keys()]).toEqual([a.keyId, b.keyId]);
    expect(keys.get(b.keyId)?.equals(b.publicKey)).toBe(true);
  });

  it('skip keys of other types in a JWKS and refuse a document with none of ours', () => {
    const a = generateSigningKey();
    const rsa = { kty: 'RSA', n: 'x', e: 'AQAB', kid: 'r1' };
    expect([...publicKeysFromJwks({ keys: [rsa, toJwk(a.publicKey)] }).keys()]).toEqual([a.keyId]);
    expect(() => publicKeysFromJwks({ keys: [rsa] })).toThrow(/at least one Ed25519 key/);
    expect(() => publicKeysFromJwks({ key: [] })).toThrow(/expected a JWKS document/);
  });

  it('refuse a JWK whose kid is not its derived id', () => {
    const jwk = { ...toJwk(generateSigningKey().publicKey), kid: 'someone-else' };
    expect(() => publicKeyFromJwk(jwk)).toThrow(/JWK kid someone-else does not match its key/);
  });
});

describe('the file keyring', () => {
  it('is created once with mode 0600 and read back unchanged', async () => {
    const created = await loadOrCreateKeyring(dir);
    expect(created.keys).toHaveLength(1);
    expect((await stat(join(dir, KEYRING_FILE))).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateKeyring(dir);
    expect(again.current.keyId).toBe(created.current.keyId);
    expect(again.current.privateKey.equals(created.current.privateKey)).toBe(true);
  });

  it('stores the current id and a list of keys, and leaves no temp files behind', async () => {
    const keyring = await loadOrCreateKeyring(dir);
    const file = JSON.parse(await readFile(join(dir, KEYRING_FILE), 'utf8'));
    expect(file).toMatchObject({ version: 1, currentKeyId: keyring.current.keyId });
    expect(file.keys).toHaveLength(1);
    expect(await readdir(dir)).toEqual([KEYRING_FILE]);
  });

  it('yields one key when several callers create it at the same moment', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyring(dir)));
    const ids = new Set(results.map((k) => k.current.keyId));
    expect(ids.size).toBe(1);
    expect((await loadKeyring(dir)).current.keyId).toBe(results[0]?.current.keyId);
    expect(await readdir(dir)).toEqual([KEYRING_FILE]);
  });

  it('rotates to a new current key and keeps the old ones for verifying old statements', async () => {
    const first = await loadOrCreateKeyring(dir);
    const statement = buildStatement({
      sha256Hex: '1'.repeat(64),
      fileName: 'old.jar',
      orgId: 'o',
      kind: 'java',
      version: '1',
      issuedAt: new Date(),
      keyId: first.current.keyId,
    });
    const signature = signStatement(statement, first.current);
    const rotated = await rotateSigningKey(dir);
    expect(rotated.current.keyId).not.toBe(first.current.keyId);
    expect(rotated.keys.map((k) => k.keyId)).toEqual([first.current.keyId, rotated.current.keyId]);
    const reloaded = await loadKeyring(dir);
    expect(reloaded.current.keyId).toBe(rotated.current.keyId);
    const oldKey = keyringPublicKeys(reloaded).get(first.current.keyId);
    expect(oldKey && verifyStatement(statement, signature, oldKey)).toBe(true);
    expect((await stat(join(dir, KEYRING_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([KEYRING_FILE]);
  });

  it('reports a missing keyring as not found', async () => {
    await expect(loadKeyring(dir)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a damaged keyring with a message naming the file and the problem', async () => {
    await writeFile(join(dir, KEYRING_FILE), '{"version": 1, "keys": [');
    await expect(loadOrCreateKeyring(dir)).rejects.toThrow(/signing-keys\.json: expected JSON/);
    const keyring = await loadOrCreateKeyring(await mkdtemp(join(dir, 'ok-')));
    const text = JSON.stringify({
      ...JSON.parse(serializeKeyring(keyring)),
      currentKeyId: 'abababababababab',
    });
    expect(() => parseKeyring(text)).toThrow('currentKeyId abababababababab is not among its keys');
  });
});
