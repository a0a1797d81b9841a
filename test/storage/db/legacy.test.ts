import { chmod, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { openServices, type Services } from '../../../src/services.js';
import { createTestDatabase, describePostgres } from './postgres-test-db.js';

/**
 * Data made by the code of c8f94b6, before the metadata, system and catalog stores were one
 * (two migration histories, two connections). legacy/make-legacy.mjs.txt is the script that
 * made them; its output is legacy/<name>.json. Every start must carry such data forward.
 */
const legacy = join(import.meta.dirname, 'legacy');

interface Summary {
  readonly acme: {
    orgId: string;
    apiKey: string;
    agentServiceKey: string;
    agentUserName: string;
    apiKeyVersion: number;
  };
  readonly member: { email: string; password: string; userId: string };
  readonly signingKeyId: string;
}

async function summary(name: string): Promise<Summary> {
  return JSON.parse(await readFile(join(legacy, `${name}.json`), 'utf8')) as Summary;
}

/** What a user of the old data must still find after the new code migrated it. */
async function expectCarriedForward(services: Services, made: Summary): Promise<void> {
  const keys = await services.credentials.getKeys(made.acme.orgId);
  expect(keys.apiKey).toBe(made.acme.apiKey);
  expect(keys.agent).toEqual({ userName: made.acme.agentUserName, serviceKey: made.acme.agentServiceKey });
  expect(keys.versions.apiKey).toBe(made.acme.apiKeyVersion);
  const authorization = Buffer.from(`${made.acme.agentUserName}:${made.acme.agentServiceKey}`).toString(
    'base64',
  );
  const agent = await services.credentials.authenticateAgent({ authorization, 'api-key': made.acme.apiKey });
  expect(agent?.orgId).toBe(made.acme.orgId);
  expect((await services.credentials.verifyPassword(made.member.email, made.member.password))?.userId).toBe(
    made.member.userId,
  );
  expect((await services.store.findSession('a'.repeat(64)))?.userId).toBe(made.member.userId);
  expect((await services.signing.current()).keyId).toBe(made.signingKeyId);
  expect((await services.store.listAgentVersions()).map((v) => `${v.kind}@${v.version}`)).toEqual([
    'java@1.0.0',
    'node@1.0.0',
  ]);
  expect(await services.store.listBundles({ orgId: made.acme.orgId })).toHaveLength(1);
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'agentpack-legacy-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a data directory made before the stores were one', () => {
  it('migrates forward on start: keys, logins, sessions, signing key, catalog and bundles stay', async () => {
    const made = await summary('c8f94b6-sqlite');
    const dataDir = join(root, 'data');
    await cp(join(legacy, 'c8f94b6-sqlite'), dataDir, { recursive: true });
    await chmod(dataDir, 0o700);
    for (const file of ['agentpack.db', 'master.key', 'link.key', 'signing-keys.json']) {
      await chmod(join(dataDir, file), 0o600);
    }
    const services = await openServices(loadConfig({ AGENTPACK_DATA_DIR: dataDir }, root));
    try {
      await expectCarriedForward(services, made);
      // The bundle recorded by the old code is the one the new code builds: same identity, no rebuild.
      const [row] = await services.store.listBundles({ orgId: made.acme.orgId });
      const bundle = await services.bundles.service.current({
        orgId: made.acme.orgId,
        kind: 'java',
        version: '1.0.0',
      });
      expect(bundle.built).not.toBe(true);
      expect(bundle.row.id).toBe(row?.id);
    } finally {
      await services.close();
    }
    const db = new BetterSqlite3(join(dataDir, 'agentpack.db'), { readonly: true });
    try {
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as {
        name: string;
      }[];
      expect(tables.map((t) => t.name)).not.toContain('agentpack_system_migration');
      const applied = db.prepare('select name from kysely_migration order by name').all() as {
        name: string;
      }[];
      expect(applied.map((m) => m.name)).toEqual([
        '0001_initial',
        '0003_catalog',
        '0004_sessions_and_secrets',
      ]);
    } finally {
      db.close();
    }
  });
});

describePostgres('a PostgreSQL database made before the stores were one', (adminUrl) => {
  it('migrates forward on start, and a second start finds nothing left to do', async () => {
    const made = await summary('c8f94b6-postgres');
    const database = await createTestDatabase(adminUrl);
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      await client.query(await readFile(join(legacy, 'c8f94b6-postgres', 'dump.sql'), 'utf8'));
      await client.end();
      const env = {
        DATABASE_URL: database.url,
        AGENTPACK_MASTER_KEY: (await readFile(join(legacy, 'c8f94b6-postgres', 'master.key'), 'utf8')).trim(),
        AGENTPACK_DATA_DIR: join(root, 'data'),
      };
      for (let start = 0; start < 2; start++) {
        const services = await openServices(loadConfig(env, root));
        try {
          await expectCarriedForward(services, made);
        } finally {
          await services.close();
        }
      }
      const check = new pg.Client({ connectionString: database.url });
      await check.connect();
      try {
        const old = await check.query("select to_regclass('public.agentpack_system_migration') as t");
        expect(old.rows[0]?.t).toBeNull();
        const applied = await check.query<{ name: string }>(
          'select name from kysely_migration order by name',
        );
        expect(applied.rows.map((r) => r.name)).toEqual([
          '0001_initial',
          '0003_catalog',
          '0004_sessions_and_secrets',
        ]);
      } finally {
        await check.end();
      }
    } finally {
      await database.drop();
    }
  });
});
