import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

/** The admin connection the PostgreSQL tests use (see .ci/postgres.sh); undefined when unset. */
export const postgresAdminUrl: string | undefined = process.env.AGENTPACK_TEST_DATABASE_URL || undefined;

/**
 * Runs `body` against PostgreSQL when AGENTPACK_TEST_DATABASE_URL is set. In CI an unset
 * URL fails loudly (the suite must run there); elsewhere the suite is skipped, and says why.
 */
export function describePostgres(name: string, body: (adminUrl: string) => void): void {
  if (postgresAdminUrl !== undefined) {
    const url = postgresAdminUrl;
    describe(name, () => body(url));
  } else if (process.env.CI) {
    describe(name, () => {
      it('has a PostgreSQL server to run against', () => {
        throw new Error(
          'AGENTPACK_TEST_DATABASE_URL is unset: CI must run the PostgreSQL suite (see .ci/postgres.sh)',
        );
      });
    });
  } else {
    console.warn(
      `${name}: skipped, AGENTPACK_TEST_DATABASE_URL is unset (run: eval "$(bash .ci/postgres.sh)")`,
    );
    describe.skipIf(true)(`${name} (skipped: AGENTPACK_TEST_DATABASE_URL is unset)`, () => body(''));
  }
}

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh database with a random name, so runs never collide; drop() removes it. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `agentpack_test_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** Every row of every table in the public schema, as JSON text (to search for secrets). */
export async function dumpPostgres(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const tables = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    const parts: string[] = [];
    for (const { tablename } of tables.rows) {
      const rows = await client.query(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
      parts.push(tablename, ...rows.rows.map((r: { row: string }) => r.row));
    }
    return parts.join('\n');
  });
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
