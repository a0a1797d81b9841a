import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildStatement, signStatement, verifyStatement } from '../../src/bundles/signature.js';
import { KEYRING_FILE, parseKeyring, serializeKeyring } from '../../src/bundles/signing-keys.js';
import { openSigning, type SigningService } from '../../src/system/signing.js';
import { fileVault } from '../../src/system/vault.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-signing-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// What `agentpack pack` and the embedded server open: the keyring in the data directory.
const openFileKeyring = (at: string = dir): Promise<SigningService> =>
  openSigning(fileVault(at), { now: Date.now });

describe('the file keyring', () => {
  it('is created once with mode 0600 and read back unchanged', async () => {
    const created = await (await openFileKeyring()).keyring();
    expect(created.keys).toHaveLength(1);
    expect((await stat(join(dir, KEYRING_FILE))).mode & 0o777).toBe(0o600);
    const again = await (await openFileKeyring()).keyring();
    expect(again.current.keyId).toBe(created.current.keyId);
    expect(again.current.privateKey.equals(created.current.privateKey)).toBe(true);
  });

  it('stores the current id and a list of keys, and leaves no temp files behind', async () => {
    const keyring = await (await openFileKeyring()).keyring();
    const file = JSON.parse(await readFile(join(dir, KEYRING_FILE), 'utf8'));
    expect(file).toMatchObject({ version: 1, currentKeyId: keyring.current.keyId });
    expect(file.keys).toHaveLength(1);
    expect(await readdir(dir)).toEqual([KEYRING_FILE]);
  });

  it('yields one key when several callers create it at the same moment', async () => {
    const opened = await Promise.all(Array.from({ length: 8 }, () => openFileKeyring()));
    const results = await Promise.all(opened.map((signing) => signing.current()));
    const ids = new Set(results.map((k) => k.keyId));
    expect(ids.size).toBe(1);
    const stored = parseKeyring(await readFile(join(dir, KEYRING_FILE), 'utf8'));
    expect(stored.current.keyId).toBe(results[0]?.keyId);
    expect(await readdir(dir)).toEqual([KEYRING_FILE]);
  });

  it('rotates to a new current key and keeps the old ones for verifying old statements', async () => {
    const signing = await openFileKeyring();
    const first = await signing.keyring();
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
    const rotated = await signing.rotate();
    expect(rotated.current.keyId).not.toBe(first.current.keyId);
    expect(rotated.keys.map((k) => k.keyId)).toEqual([first.current.keyId, rotated.current.keyId]);
    const reloaded = await openFileKeyring();
    expect((await reloaded.current()).keyId).toBe(rotated.current.keyId);
    const oldKey = (await reloaded.publicKeys()).find((k) => k.keyId === first.current.keyId)?.publicKey;
    expect(oldKey && verifyStatement(statement, signature, oldKey)).toBe(true);
    expect((await stat(join(dir, KEYRING_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([KEYRING_FILE]);
  });

  it('refuses a damaged keyring with a message naming the file and the problem', async () => {
    await writeFile(join(dir, KEYRING_FILE), '{"version": 1, "keys": [');
    await expect(openFileKeyring()).rejects.toThrow(/signing-keys\.json: expected JSON/);
    const keyring = await (await openFileKeyring(await mkdtemp(join(dir, 'ok-')))).keyring();
    const text = JSON.stringify({
      ...JSON.parse(serializeKeyring(keyring)),
      currentKeyId: 'abababababababab',
    });
    expect(() => parseKeyring(text)).toThrow('currentKeyId abababababababab is not among its keys');
  });
});
