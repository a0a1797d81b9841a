import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError } from '../common/errors.js';
import { seal, unseal } from '../credentials/envelope.js';
import type { MasterKeyring } from '../credentials/keyring.js';
import type { SecretRow, SystemStore } from '../storage/system/types.js';

/**
 * Where the service keeps the few secrets of its own (signing keyring, link key). The embedded
 * default keeps them as files (mode 0600) in the data directory; scale-out keeps them sealed
 * with the master key in the shared database, so every instance reads the same ones.
 */
export interface VaultEntry {
  readonly text: string;
  /** Opaque; changes whenever the secret is replaced. */
  readonly revision: string;
}

export interface SecretVault {
  /** For messages: `data directory /x` or `database`. Never a secret. */
  readonly where: string;
  read(name: string): Promise<VaultEntry | undefined>;
  /** Stores `text` unless the secret exists; either way returns what is stored now. */
  createIfAbsent(name: string, text: string): Promise<VaultEntry>;
  /** Replaces the secret if it is still at `expected`; undefined when another writer got there first. */
  replace(name: string, text: string, expected: string): Promise<VaultEntry | undefined>;
}

const NAME = /^[a-z0-9][a-z0-9.-]{0,63}$/;

function checkName(name: string): string {
  if (!NAME.test(name))
    throw new InternalError('SECRET_NAME_INVALID', `invalid system secret name '${name}'`);
  return name;
}

/** Files in `dir`: created by linking a finished temp file (never half-written, first writer wins). */
export function fileVault(dir: string): SecretVault {
  const revisionOf = (text: string): string => createHash('sha256').update(text).digest('hex');
  const pathOf = (name: string): string => join(dir, checkName(name));

  async function read(name: string): Promise<VaultEntry | undefined> {
    try {
      const text = await readFile(pathOf(name), 'utf8');
      return { text, revision: revisionOf(text) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async function writeTemp(name: string, text: string): Promise<string> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  }

  return {
    where: `data directory ${dir}`,
    read,
    async createIfAbsent(name, text) {
      const existing = await read(name);
      if (existing !== undefined) return existing;
      const temp = await writeTemp(name, text);
      try {
        await link(temp, pathOf(name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      const stored = await read(name);
      if (stored === undefined) throw new InternalError('SECRET_LOST', `system secret ${name} vanished`);
      return stored;
    },
    async replace(name, text, expected) {
      // One process owns the data directory; this check narrows, not closes, the race.
      if ((await read(name))?.revision !== expected) return undefined;
      const temp = await writeTemp(name, text);
      try {
        await rename(temp, pathOf(name));
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      return { text, revision: revisionOf(text) };
    },
  };
}

const OWNER = 'agentpack-system';

/**
 * Rows in the shared database, sealed (AES-256-GCM) with the current master key; the associated
 * data binds the name and revision. Creation is insert-if-absent and updates compare the
 * revision, so instances starting or rotating together converge on one value.
 */
export function storeVault(store: SystemStore, keyring: MasterKeyring, now: () => number): SecretVault {
  const context = (name: string, revision: number) => ({
    ownerId: OWNER,
    purpose: `system-secret:${name}`,
    version: revision,
  });
  const sealed = (name: string, text: string, revision: number): SecretRow => ({
    name,
    revision,
    ...seal(keyring, text, context(name, revision)),
    updatedAt: now(),
  });

  async function read(name: string): Promise<VaultEntry | undefined> {
    const row = await store.findSecret(checkName(name));
    if (row === undefined) return undefined;
    const text = unseal(keyring, row, context(name, row.revision));
    if (row.masterKeyId !== keyring.currentId) {
      // Moves the secret to the current master key, so an old key can be retired.
      const resealed = await replace(name, text, String(row.revision));
      if (resealed !== undefined) return resealed;
    }
    return { text, revision: String(row.revision) };
  }

  async function replace(name: string, text: string, expected: string): Promise<VaultEntry | undefined> {
    const revision = Number(expected) + 1;
    const replaced = await store.replaceSecret(sealed(checkName(name), text, revision), Number(expected));
    return replaced ? { text, revision: String(revision) } : undefined;
  }

  return {
    where: 'database',
    read,
    replace,
    async createIfAbsent(name, text) {
      const existing = await read(name);
      if (existing !== undefined) return existing;
      await store.insertSecretIfAbsent(sealed(checkName(name), text, 1));
      const stored = await read(name);
      if (stored === undefined) throw new InternalError('SECRET_LOST', `system secret ${name} vanished`);
      return stored;
    },
  };
}
