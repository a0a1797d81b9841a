import type { Kysely } from 'kysely';
import { type CatalogDatabase, KyselyCatalogOps } from './catalog-ops.js';
import type { CatalogOps } from './catalog-types.js';
import { KyselyOps } from './kysely-ops.js';
import type { Dialect } from './migrations.js';
import type { Database } from './schema.js';
import type { MetadataOps, MetadataStore } from './types.js';

/** A MetadataStore over an open Kysely instance; owns it and destroys it on close. */
export class KyselyMetadataStore extends KyselyOps implements MetadataStore {
  constructor(
    db: Kysely<Database>,
    readonly kind: Dialect,
    readonly location: string,
  ) {
    super(db);
  }

  /** Base agents and built bundles, on the same database. */
  get catalog(): CatalogOps {
    return new KyselyCatalogOps(this.db as unknown as Kysely<CatalogDatabase>);
  }

  transaction<T>(work: (ops: MetadataOps) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new KyselyOps(trx)));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
