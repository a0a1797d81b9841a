import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, InsufficientStorageError, UnavailableError } from '../../../src/common/errors.js';
import { openStore, SQLITE_FILE } from '../../../src/storage/db/open.js';
import { translateDriverError } from '../../../src/storage/db/translate.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const driverError = (code: string | undefined, message = 'driver text with secrets') =>
  Object.assign(new Error(message), code === undefined ? {} : { code });

describe('translateDriverError', () => {
  const unavailable: [string, Error][] = [
    ['PostgreSQL admin shutdown (57P01)', driverError('57P01')],
    ['PostgreSQL cannot connect now (57P03)', driverError('57P03')],
    ['a connection exception (08006)', driverError('08006')],
    ['statement_timeout (57014)', driverError('57014')],
    ['too many connections (53300)', driverError('53300')],
    ['a refused connection', driverError('ECONNREFUSED')],
    ['a reset connection', driverError('ECONNRESET')],
    ['a pool connect timeout', driverError(undefined, 'timeout exceeded when trying to connect')],
    ['a lost connection', driverError(undefined, 'Connection terminated unexpectedly')],
    ['a client-side read timeout', driverError(undefined, 'Query read timeout')],
    ['SQLite busy past busy_timeout', driverError('SQLITE_BUSY')],
    ['an SQLite I/O error', driverError('SQLITE_IOERR_WRITE')],
  ];
  for (const [name, error] of unavailable) {
    it(`names the database unavailable (503) for ${name}, keeping the driver error as cause`, () => {
      const translated = translateDriverError('store', error);
      expect(translated).toBeInstanceOf(UnavailableError);
      expect(translated).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503, cause: error });
      expect((translated as UnavailableError).publicMessage).toBe('the database is unavailable; retry later');
    });
  }

  for (const [name, error] of [
    ['PostgreSQL disk_full (53100)', driverError('53100')],
    ['SQLITE_FULL', driverError('SQLITE_FULL')],
  ] as const) {
    it(`answers 507 for ${name}`, () => {
      expect(translateDriverError('store', error)).toBeInstanceOf(InsufficientStorageError);
    });
  }

  it('passes other errors (constraints, bugs) unchanged', () => {
    for (const error of [
      driverError('23505'),
      driverError('42P01'),
      new TypeError('x'),
      new ConflictError('taken'),
    ])
      expect(translateDriverError('store', error)).toBe(error);
  });
});

describe('the SQLite store', () => {
  it('answers DATABASE_UNAVAILABLE when another process holds the write lock longer than the timeout', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-sqlite-busy-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const store = await openStore({ dataDir, timeoutMs: 100 });
    cleanup.push(() => store.close());
    const other = new BetterSqlite3(join(dataDir, SQLITE_FILE));
    cleanup.push(async () => {
      other.close();
    });
    other.exec('BEGIN IMMEDIATE');
    const error = await store
      .insertSecretIfAbsent({ name: 'probe', revision: 1, masterKeyId: 'k', sealed: 'x', updatedAt: 0 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    other.exec('ROLLBACK');
    expect(
      await store.insertSecretIfAbsent({
        name: 'probe',
        revision: 1,
        masterKeyId: 'k',
        sealed: 'x',
        updatedAt: 0,
      }),
    ).toBe(true);
  });
});
