import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ConfigError } from '../../common/errors.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import { KyselyStore } from './store.js';
import type { Store } from './types.js';

const INT8_OID = 20;

/**
 * The scale-out store. Migrations run at open; concurrent instances are serialized by
 * Kysely's migration lock. int8 columns (times in ms, audit ids) are read as numbers.
 */
export async function openPostgresStore(databaseUrl: string): Promise<Store> {
  const location = describeUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    },
  });
  // An idle client dropped by the server (restart, failover) must not crash the process;
  // the pool discards it and the next query opens a new connection.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'postgres');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyStore(db, 'postgres', location);
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
