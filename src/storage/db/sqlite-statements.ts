import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; Kysely builds a few dozen shapes, so this is never reached in practice. */
const MAX_STATEMENTS = 512;

/**
 * The database as Kysely's SQLite dialect sees it, with prepared statements kept by SQL text.
 * Kysely prepares every query it runs, and preparing costs more than running a point lookup;
 * a statement can be reused because better-sqlite3 runs it to completion synchronously (this
 * code never streams a query, the one case where a statement stays busy).
 */
export function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size >= MAX_STATEMENTS) statements.clear();
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
