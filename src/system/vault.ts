import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../common/durable.js';
import { InternalError } from '../common/errors.js';
import { seal, unseal } from '../credentials/envelope.js';
import type { MasterKeyring } from '../credentials/keyring.js';
import type { SecretRow, Store } from '../storage/db/types.js';

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
  /** For messages: where one secret lives (its file, or its row in the database). Never a secret. */
  describe(name: string): string;
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

/** Files in `dir` (mode 0600), written durably; creation is exclusive, so the first writer wins. */
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

  async function write(name: string, text: string, exclusive: boolean): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileDurably(pathOf(name), text, { component: 'secret vault', mode: 0o600, exclusive });
  }

  return {
    where: `data directory ${dir}`,
    describe: pathOf,
    read,
    async createIfAbsent(name, text) {
      const existing = await read(name);
      if (existing !== undefined) return existing;
      try {
        await write(name, text, true);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const stored = await read(name);
      if (stored === undefined) throw new InternalError('SECRET_LOST', `system secret ${name} vanished`);
      return stored;
    },
    async replace(name, text, expected) {
      // One process owns the data directory; this check narrows, not closes, the race.
      if ((await read(name))?.revision !== expected) return undefined;
      await write(name, text, false);
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
export function storeVault(store: Store, keyring: MasterKeyring, now: () => number): SecretVault {
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
    describe: (name) => `system secret ${checkName(name)} in the database`,
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
