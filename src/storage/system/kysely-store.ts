import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { SystemDatabase } from './schema.js';
import type { SecretRow, SessionRow, SystemStore } from './types.js';

type Db = Kysely<SystemDatabase>;

/**
 * SystemStore over Kysely (SQLite or PostgreSQL). On SQLite this module holds its own
 * connection beside the metadata store's; writes are single statements and a busy database
 * is retried asynchronously, so the event loop never waits on a lock the other connection holds.
 */
export class KyselySystemStore implements SystemStore {
  constructor(
    private readonly db: Db,
    readonly kind: 'sqlite' | 'postgres',
  ) {}

  async insertSession(row: SessionRow): Promise<void> {
    await this.write(() =>
      this.db
        .insertInto('http_sessions')
        .values({
          id_hash: row.idHash,
          user_id: row.userId,
          created_at: row.createdAt,
          expires_at: row.expiresAt,
        })
        .execute(),
    );
  }

  async findSession(idHash: string): Promise<SessionRow | undefined> {
    const row = await this.db
      .selectFrom('http_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const result = await this.write(() =>
      this.db.deleteFrom('http_sessions').where('id_hash', '=', idHash).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    const result = await this.write(() =>
      this.db.deleteFrom('http_sessions').where('expires_at', '<=', now).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  async findSecret(name: string): Promise<SecretRow | undefined> {
    const row = await this.db
      .selectFrom('system_secrets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toSecret(row);
  }

  async insertSecretIfAbsent(row: SecretRow): Promise<boolean> {
    const result = await this.write(() =>
      this.db
        .insertInto('system_secrets')
        .values({
          name: row.name,
          revision: row.revision,
          master_key_id: row.masterKeyId,
          sealed: row.sealed,
          updated_at: row.updatedAt,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst(),
    );
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async replaceSecret(row: SecretRow, expectedRevision: number): Promise<boolean> {
    const result = await this.write(() =>
      this.db
        .updateTable('system_secrets')
        .set({
          revision: row.revision,
          master_key_id: row.masterKeyId,
          sealed: row.sealed,
          updated_at: row.updatedAt,
        })
        .where('name', '=', row.name)
        .where('revision', '=', expectedRevision)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows > 0n;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  private async write<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isBusy(error) || attempt >= 100) throw error;
        await sleep(Math.min(5 * attempt, 50));
      }
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function toSession(row: Selectable<SystemDatabase['http_sessions']>): SessionRow {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

function toSecret(row: Selectable<SystemDatabase['system_secrets']>): SecretRow {
  return {
    name: row.name,
    revision: Number(row.revision),
    masterKeyId: row.master_key_id,
    sealed: row.sealed,
    updatedAt: Number(row.updated_at),
  };
}
