import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../common/errors.js';
import { metadataTargetFromEnv } from '../storage/config.js';
import { openMetadataStore, SQLITE_FILE } from '../storage/metadata/open.js';
import type { MetadataStore } from '../storage/metadata/types.js';
import { Credentials } from './credentials.js';
import { loadMasterKeyring } from './keyring.js';
import type { Logger } from './types.js';

export interface OpenedCredentials {
  readonly credentials: Credentials;
  readonly store: MetadataStore;
  close(): Promise<void>;
}

/**
 * Wires the store and the master keys from the environment (`DATABASE_URL`,
 * `AGENTPACK_DATA_DIR`, `AGENTPACK_MASTER_KEY`, `AGENTPACK_MASTER_KEYS_OLD`), migrates, and
 * refuses to start when stored secrets were sealed under a key that is not configured.
 */
export async function openCredentials(options: {
  env: NodeJS.ProcessEnv;
  cwd: string;
  now?: () => number;
  logger?: Logger;
  agentAuthCacheSeconds?: number;
}): Promise<OpenedCredentials> {
  const target = metadataTargetFromEnv(options.env, options.cwd);
  const dataDir = 'dataDir' in target ? target.dataDir : undefined;
  const keyring = await loadMasterKeyring({ env: options.env, dataDir });
  const store = await openMetadataStore(target);
  try {
    const credentials = new Credentials({
      store,
      keyring,
      now: options.now,
      logger: options.logger,
      agentAuthCacheSeconds: options.agentAuthCacheSeconds,
    });
    await credentials.checkMasterKeys();
    return { credentials, store, close: () => store.close() };
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
  options: { env: NodeJS.ProcessEnv; cwd: string; mustExist?: boolean },
  work: (credentials: Credentials) => Promise<T>,
): Promise<T> {
  if (options.mustExist === true) await requireEmbeddedStore(options.env, options.cwd);
  const opened = await openCredentials(options);
  try {
    return await work(opened.credentials);
  } finally {
    await opened.close();
  }
}

async function requireEmbeddedStore(env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const target = metadataTargetFromEnv(env, cwd);
  if (!('dataDir' in target)) return;
  const file = join(target.dataDir, SQLITE_FILE);
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
