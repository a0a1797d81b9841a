import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyringFrom } from '../../src/credentials/keyring.js';
import { openStore } from '../../src/storage/db/open.js';
import type { Store } from '../../src/storage/db/types.js';
import { openLinkKey, openSigning } from '../../src/system/signing.js';
import { fileVault, type SecretVault, storeVault } from '../../src/system/vault.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-vault-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function vaultContract(
  make: () => Promise<{ a: SecretVault; b: SecretVault; close(): Promise<void> }>,
): void {
  it('lets the first writer win when two create the same secret at once; both read the winner', async () => {
    const { a, b, close } = await make();
    try {
      const [first, second] = await Promise.all([
        a.createIfAbsent('link.key', 'from-a'),
        b.createIfAbsent('link.key', 'from-b'),
      ]);
      expect(first.text).toBe(second.text);
      expect(['from-a', 'from-b']).toContain(first.text);
      expect((await b.read('link.key'))?.text).toBe(first.text);
    } finally {
      await close();
    }
  });

  it('replaces only from the revision the writer read', async () => {
    const { a, b, close } = await make();
    try {
      const created = await a.createIfAbsent('signing-keys.json', 'one');
      const replaced = await a.replace('signing-keys.json', 'two', created.revision);
      expect(replaced?.text).toBe('two');
      expect(await b.replace('signing-keys.json', 'stale', created.revision)).toBeUndefined();
      expect((await b.read('signing-keys.json'))?.text).toBe('two');
    } finally {
      await close();
    }
  });

  it('refuses a name that could escape its place', async () => {
    const { a, close } = await make();
    try {
      await expect(a.read('../master.key')).rejects.toThrow(/invalid system secret name/);
    } finally {
      await close();
    }
  });
}

describe('fileVault', () => {
  vaultContract(async () => ({ a: fileVault(dir), b: fileVault(dir), close: async () => undefined }));

  it('writes secrets readable by the owner only', async () => {
    await fileVault(join(dir, 'data')).createIfAbsent('link.key', 'secret');
    expect((await stat(join(dir, 'data', 'link.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
  });
});

describe('storeVault', () => {
  const master = keyringFrom(randomBytes(32));
  let stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores) await store.close();
    stores = [];
  });
  const open = async () => {
    const store = await openStore({ dataDir: dir });
    stores.push(store);
    return store;
  };

  vaultContract(async () => ({
    a: storeVault(await open(), master, Date.now),
    b: storeVault(await open(), master, Date.now),
    close: async () => undefined,
  }));

  it('keeps secrets sealed: the plaintext is not in the database file', async () => {
    const vault = storeVault(await open(), master, Date.now);
    await vault.createIfAbsent('link.key', 'plaintext-link-key-material');
    const db = await readFile(join(dir, 'agentpack.db'));
    expect(db.includes(Buffer.from('plaintext-link-key-material'))).toBe(false);
  });

  it('does not open under another master key', async () => {
    const store = await open();
    await storeVault(store, master, Date.now).createIfAbsent('link.key', 'x');
    await expect(storeVault(store, keyringFrom(randomBytes(32)), Date.now).read('link.key')).rejects.toThrow(
      /not configured/,
    );
  });

  it('moves a secret to the current master key when it was sealed under an older one', async () => {
    const store = await open();
    const old = keyringFrom(randomBytes(32));
    await storeVault(store, old, Date.now).createIfAbsent('link.key', 'kept');
    const rotated = keyringFrom(randomBytes(32), [old.key(old.currentId) as Buffer]);
    expect((await storeVault(store, rotated, Date.now).read('link.key'))?.text).toBe('kept');
    expect((await store.findSecret('link.key'))?.masterKeyId).toBe(rotated.currentId);
    expect(
      (
        await storeVault(store, keyringFrom(rotated.key(rotated.currentId) as Buffer), Date.now).read(
          'link.key',
        )
      )?.text,
    ).toBe('kept');
  });
});

describe('openSigning and openLinkKey over a shared vault', () => {
  it('give two instances starting together the same signing key and link key', async () => {
    const master = keyringFrom(randomBytes(32));
    const [s1, s2] = [await openStore({ dataDir: dir }), await openStore({ dataDir: dir })];
    try {
      const [v1, v2] = [storeVault(s1, master, Date.now), storeVault(s2, master, Date.now)];
      const [a, b] = await Promise.all([
        openSigning(v1, { now: Date.now }),
        openSigning(v2, { now: Date.now }),
      ]);
      expect((await a.current()).keyId).toBe((await b.current()).keyId);
      const [k1, k2] = await Promise.all([openLinkKey(v1), openLinkKey(v2)]);
      expect(k1.equals(k2)).toBe(true);
      expect(k1).toHaveLength(32);
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  it('lets another instance see a rotation once its cache is older than the refresh interval', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const a = await openSigning(fileVault(dir), { now, refreshMs: 30_000 });
    const b = await openSigning(fileVault(dir), { now, refreshMs: 30_000 });
    const first = await b.current();
    const rotated = await a.rotate();
    expect(rotated.current.keyId).not.toBe(first.keyId);
    expect((await b.current()).keyId).toBe(first.keyId);
    clock += 30_000;
    expect((await b.current()).keyId).toBe(rotated.current.keyId);
    expect((await b.publicKeys()).map((k) => k.keyId)).toEqual([first.keyId, rotated.current.keyId]);
  });

  it('keeps both rotations when two instances rotate at once', async () => {
    const master = keyringFrom(randomBytes(32));
    const [s1, s2] = [await openStore({ dataDir: dir }), await openStore({ dataDir: dir })];
    try {
      const a = await openSigning(storeVault(s1, master, Date.now), { now: Date.now });
      const b = await openSigning(storeVault(s2, master, Date.now), { now: Date.now });
      const [ra, rb] = await Promise.all([a.rotate(), b.rotate()]);
      const final = await openSigning(storeVault(s1, master, Date.now), { now: Date.now });
      const ids = (await final.publicKeys()).map((k) => k.keyId);
      expect(ids).toHaveLength(3);
      expect(ids).toContain(ra.current.keyId);
      expect(ids).toContain(rb.current.keyId);
    } finally {
      await s1.close();
      await s2.close();
    }
  });
});
