import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../common/errors.js';
import type { AppConfig } from '../config.js';
import { openStore, SQLITE_FILE } from '../storage/db/open.js';
import type { Store } from '../storage/db/types.js';
import { Credentials } from './credentials.js';
import { loadMasterKeyring, type MasterKeyring } from './keyring.js';
import type { Logger } from './types.js';

export interface OpenedCredentials {
  readonly credentials: Credentials;
  readonly store: Store;
  readonly masterKeys: MasterKeyring;
  close(): Promise<void>;
}

/**
 * Opens the configured store (migrating it) and the master keyring, and refuses to start when
 * stored secrets were sealed under a key that is not configured.
 */
export async function openCredentials(
  config: AppConfig,
  options: { now?: () => number; logger?: Logger } = {},
): Promise<OpenedCredentials> {
  const dataDir = 'dataDir' in config.store ? config.store.dataDir : undefined;
  const masterKeys = await loadMasterKeyring(config.masterKeys, dataDir);
  const store = await openStore(config.store);
  try {
    const credentials = new Credentials({
      store,
      keyring: masterKeys,
      now: options.now,
      logger: options.logger,
      agentAuthCacheSeconds: config.agentAuthCacheSeconds,
    });
    await credentials.checkMasterKeys();
    return { credentials, store, masterKeys, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Opens, runs `work`, closes. With `mustExist`, an embedded store that was never created
 * is an error instead of a new empty database (so a mistyped command changes nothing).
 */
export async function withCredentials<T>(
  config: AppConfig,
  options: { mustExist?: boolean },
  work: (credentials: Credentials) => Promise<T>,
): Promise<T> {
  if (options.mustExist === true) await requireEmbeddedStore(config);
  const opened = await openCredentials(config);
  try {
    return await work(opened.credentials);
  } finally {
    await opened.close();
  }
}

async function requireEmbeddedStore(config: AppConfig): Promise<void> {
  if (!('dataDir' in config.store)) return;
  const file = join(config.store.dataDir, SQLITE_FILE);
  try {
    await access(file);
  } catch {
    throw new NotFoundError(
      `no database at ${file}; create an organization first (agentpack org create NAME)`,
    );
  }
}

/** The audit actor for commands run from a shell: `cli:<login name>`. */
export function cliActor(env: NodeJS.ProcessEnv): string {
  const name = (env.USER || env.LOGNAME || 'unknown').replace(/[^\w.@-]/g, '?').slice(0, 64);
  return `cli:${name}`;
}
