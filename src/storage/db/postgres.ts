import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ConfigError } from '../../common/errors.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import { KyselyStore } from './store.js';
import { TranslatingDialect } from './translate.js';
import type { Store } from './types.js';

const INT8_OID = 20;

/**
 * The scale-out store. Migrations run at open; concurrent instances are serialized by
 * Kysely's migration lock. int8 columns (times in ms, audit ids) are read as numbers.
 *
 * No call waits unboundedly: a pooled connection is handed out or opened within `timeoutMs`, and
 * a statement runs at most that long (the server cancels it: 57014). A server that does not
 * answer at all (frozen, a black-holed route) is cut off by the client-side read timeout a little
 * later. Every failure of that kind, and a lost connection, reaches callers as a 503.
 */
export async function openPostgresStore(databaseUrl: string, options: { timeoutMs: number }): Promise<Store> {
  const location = describeUrl(databaseUrl);
  await migrate(databaseUrl, location, options.timeoutMs);
  const pool = createPool(databaseUrl, options.timeoutMs, {
    statement_timeout: options.timeoutMs,
    // The server's statement_timeout should win, as it leaves the connection usable.
    query_timeout: options.timeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
  });
  const db = new Kysely<Database>({
    dialect: new TranslatingDialect(new PostgresDialect({ pool }), `PostgreSQL store ${location}`),
  });
  const store = new KyselyStore(db, 'postgres', location);
  // Also initializes the driver: Kysely's destroy() skips a driver never used, which would
  // leave the pool open after close().
  await store.ping().catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  return store;
}

const CLIENT_TIMEOUT_MARGIN_MS = 1000;

/**
 * Migrations on a pool of their own, without a statement timeout: waiting for another instance
 * that holds the migration lock, or a migration over a large table, may take longer than a call.
 */
async function migrate(databaseUrl: string, location: string, timeoutMs: number): Promise<void> {
  const pool = createPool(databaseUrl, timeoutMs, {});
  const db = new Kysely<Database>({
    dialect: new TranslatingDialect(new PostgresDialect({ pool }), `PostgreSQL store ${location}`),
  });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'postgres');
  } finally {
    await db.destroy();
  }
}

function createPool(databaseUrl: string, timeoutMs: number, limits: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    connectionTimeoutMillis: timeoutMs,
    keepAlive: true,
    ...limits,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    },
  });
  // A connection the server drops (restart, failover, idle timeout) emits 'error'. While idle the
  // pool hears it: it discards the client and the next query opens a new connection. While
  // checked out (between two queries of a transaction) only the client itself hears it: without
  // a listener of its own that event would end the process. The query in progress, or the next
  // one, fails and the store answers 503.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/** `postgres://host:port/db`: the URL without user name, password or query. */
export function describeUrl(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new ConfigError('DATABASE_URL must be a URL like postgres://user:password@host:5432/dbname');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres://; found ${url.protocol}//`);
  }
  return `postgres://${url.host}${url.pathname}`;
}
