import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import { withStatementCache } from './sqlite-statements.js';
import { KyselyStore } from './store.js';
import { TranslatingDialect } from './translate.js';
import type { Store } from './types.js';

/**
 * The embedded store: one SQLite file, write-ahead log, foreign keys on, full sync on commit
 * (a rotation that returned has reached the disk). The directory is created if needed, the
 * file readable by its owner only. Errors of a busy, failing or full database reach callers as
 * 503 or 507 (translate.ts).
 */
export async function openSqliteStore(file: string, options: { timeoutMs: number }): Promise<Store> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Created owner-only before SQLite opens it; SQLite gives -wal and -shm the same mode.
  await (await open(file, 'a', 0o600)).close();
  const database = new BetterSqlite3(file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    // Another process (a CLI command) holding the write lock longer than this gives a 503.
    database.pragma(`busy_timeout = ${Math.trunc(options.timeoutMs)}`);
    const db = new Kysely<Database>({
      dialect: new TranslatingDialect(
        new SqliteDialect({ database: withStatementCache(database) }),
        `SQLite store ${file}`,
      ),
    });
    await migrateToLatest(db as Kysely<unknown>, 'sqlite');
    return new KyselyStore(db, 'sqlite', file);
  } catch (error) {
    database.close();
    throw error;
  }
}
