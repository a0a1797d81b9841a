import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { SystemDatabase } from './schema.js';

const INT8_OID = 20;

/** A small pool beside the metadata store's: sessions and secrets are light traffic. */
export function connectPostgres(databaseUrl: string): Kysely<SystemDatabase> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 4,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    },
  });
  return new Kysely<SystemDatabase>({ dialect: new PostgresDialect({ pool }) });
}
