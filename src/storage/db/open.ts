import { join } from 'node:path';
import type { Store, StoreTarget } from './types.js';

export const SQLITE_FILE = 'agentpack.db';
export const DEFAULT_DB_TIMEOUT_MS = 5000;

/**
 * Opens the store and applies pending migrations: `{ dataDir }` is the embedded SQLite file
 * `<dataDir>/agentpack.db` (one connection per process), `{ databaseUrl }` is PostgreSQL (one
 * pool per process). Only the chosen driver is loaded.
 */
export async function openStore(target: StoreTarget): Promise<Store> {
  if ('databaseUrl' in target) {
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore(target.databaseUrl, { timeoutMs: target.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS });
  }
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore(join(target.dataDir, SQLITE_FILE), {
    timeoutMs: target.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS,
  });
}
