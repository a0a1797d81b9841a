import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import { withStatementCache } from './sqlite-statements.js';
import { KyselyStore } from './store.js';
import type { Store } from './types.js';

/**
 * The embedded store: one SQLite file, write-ahead log, foreign keys on, full sync on commit
 * (a rotation that returned has reached the disk). The directory is created if needed, the
 * file readable by its owner only.
 */
export async function openSqliteStore(file: string): Promise<Store> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Created owner-only before SQLite opens it; SQLite gives -wal and -shm the same mode.
  await (await open(file, 'a', 0o600)).close();
  const database = new BetterSqlite3(file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(database) }),
    });
    await migrateToLatest(db as Kysely<unknown>, 'sqlite');
    return new KyselyStore(db, 'sqlite', file);
  } catch (error) {
    database.close();
    throw error;
  }
}
