import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { InsufficientStorageError, UnavailableError } from '../../common/errors.js';

/**
 * PostgreSQL SQLSTATEs of a server that is gone, going, starting or overloaded: class 08
 * (connection exception), 57P01-57P05 (shutdown, crash, cannot connect now, idle timeout),
 * 57014 (statement_timeout), 53000/53200/53300 (out of resources, memory, connections),
 * 40001/40P01 are not here: a serialization failure is the caller's to retry.
 */
const PG_UNAVAILABLE = /^(08...|57P0[1-5]|57014|53000|53200|53300|58030)$/;
const PG_FULL = '53100';
/** SQLite result codes (better-sqlite3 sets the extended name): locked past busy_timeout, I/O errors. */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|PROTOCOL|NOLFS)/;
const SQLITE_FULL = /^SQLITE_FULL/;
const NET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/** node-postgres reports a lost or slow connection by message only. */
const PG_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|terminating connection)/;

/** SQLite's answer to a ROLLBACK after it already rolled back by itself. */
const NO_TRANSACTION = /no transaction is active/;

/**
 * A driver error as ours when it means the database is unavailable (503) or full (507); any
 * other error (a constraint, a bug) passes unchanged. The log keeps the driver error as `cause`;
 * the message names the store and the error code, never a URL or a password.
 */
export function translateDriverError(where: string, error: unknown): unknown {
  if (error instanceof UnavailableError || error instanceof InsufficientStorageError) return error;
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (code === PG_FULL || (code !== undefined && SQLITE_FULL.test(code)))
    return new InsufficientStorageError('database', `${where}: the database is full (${code})`, {
      cause: error,
    });
  const unavailable =
    (code !== undefined &&
      (PG_UNAVAILABLE.test(code) || SQLITE_UNAVAILABLE.test(code) || NET_UNAVAILABLE.has(code))) ||
    PG_MESSAGES.test(message);
  if (!unavailable) return error;
  const what = code ?? message.split(/[:.]/)[0]?.slice(0, 60);
  return new UnavailableError('database', `${where}: the database is unavailable (${what})`, {
    cause: error,
  });
}

/**
 * Wraps a Kysely dialect so that every driver call (connect, query, transaction) translates its
 * errors: the store's callers only ever see our errors for an unavailable database.
 */
export class TranslatingDialect implements Dialect {
  constructor(
    private readonly inner: Dialect,
    private readonly where: string,
  ) {}

  createDriver(): Driver {
    return new TranslatingDriver(this.inner.createDriver(), this.where);
  }

  createQueryCompiler(): QueryCompiler {
    return this.inner.createQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return this.inner.createAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return this.inner.createIntrospector(db as Parameters<Dialect['createIntrospector']>[0]);
  }
}

class TranslatingConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly where: string,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(compiledQuery);
    } catch (error) {
      throw translateDriverError(this.where, error);
    }
  }

  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize?: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (error) {
      throw translateDriverError(this.where, error);
    }
  }
}

class TranslatingDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly where: string,
  ) {}

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translateDriverError(this.where, error);
    }
  }

  init(): Promise<void> {
    return this.guard(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new TranslatingConnection(await this.guard(() => this.inner.acquireConnection()), this.where);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.guard(() => this.inner.beginTransaction(unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.guard(() => this.inner.commitTransaction(unwrap(connection)));
  }

  /**
   * SQLite ends a transaction by itself on some errors (SQLITE_FULL, SQLITE_IOERR, ...); the
   * ROLLBACK Kysely then sends fails, and its error would replace the one that said why (a full
   * disk became a 500). Nothing is left to roll back, so that failure is dropped.
   */
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(unwrap(connection));
    } catch (error) {
      if (NO_TRANSACTION.test(String((error as Error | null)?.message ?? ''))) return;
      throw translateDriverError(this.where, error);
    }
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof TranslatingConnection ? connection.inner : connection;
}
