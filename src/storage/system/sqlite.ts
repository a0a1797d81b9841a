import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { withStatementCache } from '../sqlite-statements.js';
import type { SystemDatabase } from './schema.js';

/**
 * A second connection to the embedded SQLite file. During migrations it may wait for locks;
 * once `serving()` is called it never waits (busy_timeout 0): a synchronous busy wait would block
 * the event loop while the metadata store's connection, in this same process, holds the write
 * lock. KyselySystemStore retries busy writes asynchronously instead.
 */
export async function connectSqlite(file: string): Promise<{ db: Kysely<SystemDatabase>; serving(): void }> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const database = new BetterSqlite3(file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('busy_timeout = 5000');
  } catch (error) {
    database.close();
    throw error;
  }
  return {
    db: new Kysely<SystemDatabase>({
      dialect: new SqliteDialect({ database: withStatementCache(database) }),
    }),
    serving: () => database.pragma('busy_timeout = 0'),
  };
}
