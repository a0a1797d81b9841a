import { type Kysely, sql } from 'kysely';
import { KyselyOps } from './ops.js';
import type { Database } from './schema.js';
import type { Store, StoreOps } from './types.js';

/** The Store over an open Kysely instance (the process's one connection or pool); owns it. */
export class KyselyStore extends KyselyOps implements Store {
  constructor(
    db: Kysely<Database>,
    readonly kind: 'sqlite' | 'postgres',
    readonly location: string,
  ) {
    super(db);
  }

  transaction<T>(work: (ops: StoreOps) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new KyselyOps(trx)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
