import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openCredentials } from '../../src/credentials/open.js';
import { cli } from '../credentials/cli-harness.js';
import { agentHeaders } from '../credentials/harness.js';
import { createTestDatabase, describePostgres } from '../storage/db/postgres-test-db.js';
import { dumpSqlite } from '../storage/db/sqlite-dump.js';

let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agentpack-cli-org-'));
  env = { AGENTPACK_DATA_DIR: dataDir, USER: 'tester' };
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('agentpack org create', () => {
  it('prints the org id and its keys, which then authenticate the agent', async () => {
    const result = await cli(['org', 'create', 'Acme Corp', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const org = JSON.parse(result.stdout);
    expect(org).toMatchObject({
      orgId: expect.any(String),
      slug: 'acme-corp',
      apiKey: expect.stringMatching(/^apo_/),
      agent: { userName: `agent_${org.orgId}@acme-corp`, serviceKey: expect.stringMatching(/^aps_/) },
    });
    const opened = await openCredentials(loadConfig(env, '/'));
    try {
      const principal = await opened.credentials.authenticateAgent(
        agentHeaders(org.agent.userName, org.agent.serviceKey, org.apiKey),
      );
      expect(principal?.orgId).toBe(org.orgId);
    } finally {
      await opened.close();
    }
  });

  it('prints the same facts as text, and creates master.key with mode 0600', async () => {
    const result = await cli(['org', 'create', 'Acme'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^organization Acme \(acme\) created\n {2}org id +[0-9a-f-]{36}\n {2}API key +apo_/,
    );
    expect(result.stdout).toMatch(/agent user name +agent_[0-9a-f-]{36}@acme\n {2}agent service key +aps_/);
    expect((await stat(join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a duplicate slug with one line, exit 2, and leaves the database unchanged', async () => {
    await cli(['org', 'create', 'Acme'], env);
    const before = dumpSqlite(join(dataDir, 'agentpack.db'));
    const result = await cli(['org', 'create', 'ACME!'], env);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: "agentpack: organization slug 'acme' is already taken\n",
    });
    expect(dumpSqlite(join(dataDir, 'agentpack.db'))).toBe(before);
  });

  it('refuses a name without a usable slug before touching the data directory', async () => {
    const result = await cli(['org', 'create', '???'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("agentpack: cannot derive a slug from the name '???'; choose one (--slug)\n");
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('takes --slug, and refuses an invalid one', async () => {
    expect(
      JSON.parse((await cli(['org', 'create', 'Acme', '--slug', 'acme-eu', '--json'], env)).stdout).slug,
    ).toBe('acme-eu');
    const bad = await cli(['org', 'create', 'Acme', '--slug', 'Not_A_Slug'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^agentpack: a slug must be 1 to 48 of a-z, 0-9 and single dashes/);
  });

  it('answers usage errors with one line and exit 2', async () => {
    expect((await cli(['org', 'create'], env)).stderr).toBe(
      'agentpack: org create: expected one NAME, found 0 (quote a name with spaces)\n',
    );
    expect((await cli(['org', 'delete', 'x'], env)).stderr).toBe(
      "agentpack: org: unknown subcommand 'delete' (expected create or list)\n",
    );
    expect((await cli(['org', 'create', 'A', '--color'], env)).code).toBe(2);
  });
});

describe('agentpack org list', () => {
  it('lists organizations by name', async () => {
    await cli(['org', 'create', 'Zeta'], env);
    await cli(['org', 'create', 'Alpha'], env);
    const result = await cli(['org', 'list'], env);
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[2]),
    ).toEqual(['Alpha', 'Zeta']);
    const json = JSON.parse((await cli(['org', 'list', '--json'], env)).stdout);
    expect(json.map((o: { slug: string }) => o.slug)).toEqual(['alpha', 'zeta']);
  });

  it('says there is no database yet instead of creating one', async () => {
    const result = await cli(['org', 'list'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `agentpack: no database at ${join(dataDir, 'agentpack.db')}; create an organization first (agentpack org create NAME)\n`,
    );
    expect(await readdir(dataDir)).toEqual([]);
  });
});

describePostgres('agentpack org on DATABASE_URL', (adminUrl) => {
  it('creates organizations in PostgreSQL with the master key from the environment', async () => {
    const database = await createTestDatabase(adminUrl);
    try {
      const pgEnv = { DATABASE_URL: database.url, AGENTPACK_MASTER_KEY: randomBytes(32).toString('base64') };
      const created = await cli(['org', 'create', 'Acme', '--json'], pgEnv);
      expect(created.code).toBe(0);
      const listed = JSON.parse((await cli(['org', 'list', '--json'], pgEnv)).stdout);
      expect(listed.map((o: { orgId: string }) => o.orgId)).toEqual([JSON.parse(created.stdout).orgId]);
      const duplicate = await cli(['org', 'create', 'Acme'], pgEnv);
      expect(duplicate).toMatchObject({
        code: 2,
        stderr: "agentpack: organization slug 'acme' is already taken\n",
      });
    } finally {
      await database.drop();
    }
  });

  it('refuses to run on DATABASE_URL without AGENTPACK_MASTER_KEY', async () => {
    const database = await createTestDatabase(adminUrl);
    try {
      const result = await cli(['org', 'create', 'Acme'], { DATABASE_URL: database.url });
      expect(result).toEqual({
        code: 2,
        stdout: '',
        stderr:
          'agentpack: invalid configuration: AGENTPACK_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 bytes)\n',
      });
    } finally {
      await database.drop();
    }
  });
});
