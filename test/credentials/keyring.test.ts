import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/common/errors.js';
import {
  keyringFrom,
  loadMasterKeyring,
  masterKeyId,
  parseMasterKeys,
} from '../../src/credentials/keyring.js';

/** The environment as configuration reads it, then the keyring as services load it. */
async function loadKeyring(source: { env: NodeJS.ProcessEnv; dataDir?: string }) {
  return loadMasterKeyring(parseMasterKeys(source.env), source.dataDir);
}

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agentpack-keyring-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('loadMasterKeyring', () => {
  it('generates <dataDir>/master.key with mode 0600 on first start and reuses it', async () => {
    const first = await loadKeyring({ env: {}, dataDir });
    const info = await stat(join(dataDir, 'master.key'));
    expect(info.mode & 0o777).toBe(0o600);
    expect(Buffer.from(await readFile(join(dataDir, 'master.key'), 'utf8'), 'base64')).toHaveLength(32);
    expect((await loadKeyring({ env: {}, dataDir })).currentId).toBe(first.currentId);
  });

  it('hands every concurrent first start the same key', async () => {
    const rings = await Promise.all(Array.from({ length: 8 }, () => loadKeyring({ env: {}, dataDir })));
    expect(new Set(rings.map((r) => r.currentId)).size).toBe(1);
  });

  it('refuses a master.key that others can read', async () => {
    await loadKeyring({ env: {}, dataDir });
    await chmod(join(dataDir, 'master.key'), 0o644);
    await expect(loadKeyring({ env: {}, dataDir })).rejects.toThrow(
      /must be readable by its owner only \(mode 600\); found mode 644$/,
    );
  });

  it('takes AGENTPACK_MASTER_KEY over the file, and old keys from AGENTPACK_MASTER_KEYS_OLD', async () => {
    const [current, old1, old2] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const ring = await loadKeyring({
      env: {
        AGENTPACK_MASTER_KEY: current.toString('base64'),
        AGENTPACK_MASTER_KEYS_OLD: `${old1.toString('base64')}, ${old2.toString('base64')}`,
      },
      dataDir,
    });
    expect(ring.currentId).toBe(masterKeyId(current));
    expect(ring.key(masterKeyId(old2))).toEqual(old2);
    expect(ring.ids()).toHaveLength(3);
    await expect(stat(join(dataDir, 'master.key'))).rejects.toThrow();
  });

  it('requires AGENTPACK_MASTER_KEY in scale-out mode', async () => {
    await expect(loadKeyring({ env: {} })).rejects.toThrow(
      'AGENTPACK_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 bytes)',
    );
  });

  it('names the variable and the length found, never the value', async () => {
    const short = randomBytes(16).toString('base64');
    const error = await loadKeyring({ env: { AGENTPACK_MASTER_KEY: short } }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('AGENTPACK_MASTER_KEY must be base64 of 32 bytes; found 16 bytes');
    const garbage = 'hunter2-not-base64!';
    const other = await loadKeyring({ env: { AGENTPACK_MASTER_KEY: garbage } }).catch((e: Error) => e);
    expect((other as Error).message).not.toContain(garbage);
  });

  it('reads a master.key written by hand, trailing newline and all', async () => {
    const key = randomBytes(32);
    await writeFile(join(dataDir, 'master.key'), `${key.toString('base64')}\n`, { mode: 0o600 });
    expect((await loadKeyring({ env: {}, dataDir })).currentId).toBe(keyringFrom(key).currentId);
  });
});
