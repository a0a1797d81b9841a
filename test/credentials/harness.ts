import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credentials } from '../../src/credentials/credentials.js';
import { keyringFrom, type MasterKeyring } from '../../src/credentials/keyring.js';
import type { Logger } from '../../src/credentials/types.js';
import { openStore } from '../../src/storage/db/open.js';
import type { Store, StoreTarget } from '../../src/storage/db/types.js';
import { createTestDatabase, postgresAdminUrl } from '../storage/db/postgres-test-db.js';

export interface Harness {
  readonly credentials: Credentials;
  readonly store: Store;
  readonly target: StoreTarget;
  readonly keyring: MasterKeyring;
  /** Milliseconds since the epoch, moved by tests instead of sleeping. */
  clock: number;
  /** Every log call, as JSON lines. */
  readonly logs: string[];
  /** A second Credentials over the same store (same keyring, same clock). */
  withStore(store: Store): Credentials;
  dispose(): Promise<void>;
}

export type StoreKind = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when AGENTPACK_TEST_DATABASE_URL is set. */
export const storeKinds: StoreKind[] = postgresAdminUrl === undefined ? ['sqlite'] : ['sqlite', 'postgres'];

export async function createTarget(
  kind: StoreKind,
): Promise<{ target: StoreTarget; dispose(): Promise<void> }> {
  if (kind === 'postgres') {
    const database = await createTestDatabase(postgresAdminUrl as string);
    return { target: { databaseUrl: database.url }, dispose: () => database.drop() };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-cred-'));
  return { target: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
}

export async function createHarness(
  kind: StoreKind,
  keyring = keyringFrom(randomBytes(32)),
): Promise<Harness> {
  const { target, dispose } = await createTarget(kind);
  const store = await openStore(target);
  const logs: string[] = [];
  const logger = capturingLogger(logs);
  const state = { clock: Date.UTC(2030, 0, 1) };
  const make = (over: Store) => new Credentials({ store: over, keyring, now: () => state.clock, logger });
  return {
    get clock() {
      return state.clock;
    },
    set clock(value: number) {
      state.clock = value;
    },
    logs,
    store,
    target,
    keyring,
    credentials: make(store),
    withStore: make,
    async dispose() {
      await store.close();
      await dispose();
    },
  };
}

export function capturingLogger(lines: string[]): Logger {
  const at = (level: string) => (fields: object, message: string) => {
    lines.push(JSON.stringify({ level, message, ...fields }));
  };
  return { info: at('info'), warn: at('warn'), debug: at('debug') };
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export function agentHeaders(userName: string, serviceKey: string, apiKey: string): Record<string, string> {
  return { authorization: b64(`${userName}:${serviceKey}`), 'api-key': apiKey };
}
