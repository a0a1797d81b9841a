import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../credentials/cli-harness.js';
import { dumpSqlite } from '../storage/db/sqlite-dump.js';

let dataDir: string;
let env: NodeJS.ProcessEnv;
let org: { orgId: string; apiKey: string; keyIds: { apiKey: string } };

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agentpack-cli-keys-'));
  env = { AGENTPACK_DATA_DIR: dataDir, USER: 'tester' };
  org = JSON.parse((await cli(['org', 'create', 'Acme', '--json'], env)).stdout);
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const db = () => dumpSqlite(join(dataDir, 'agentpack.db'));
const json = async (argv: string[], e = env) => {
  const result = await cli(argv, e);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
};

describe('agentpack keys rotate', () => {
  it('mints version 2 and keeps version 1 for the grace period', async () => {
    const before = Date.now();
    const rotated = await json([
      'keys',
      'rotate',
      '--org',
      'acme',
      '--which',
      'api-key',
      '--grace',
      '1h',
      '--json',
    ]);
    expect(rotated).toMatchObject({
      which: 'api-key',
      version: 2,
      previous: { version: 1, keyId: org.keyIds.apiKey },
    });
    const expiresAt = Date.parse(rotated.previous.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    const shown = await json(['keys', 'show', '--org', org.orgId, '--json']);
    expect(shown.apiKey).toBe(rotated.key);
    expect(shown.expiries).toEqual([
      { which: 'api-key', version: 1, keyId: org.keyIds.apiKey, expiresAt: rotated.previous.expiresAt },
    ]);
  });

  it('defaults to a 24h grace period and says so in text', async () => {
    const result = await cli(['keys', 'rotate', '--org', 'acme', '--which', 'agent-service-key'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^agent-service-key of [0-9a-f-]{36} rotated to version 2 \(aps_\w{12}\)\n {2}new key +aps_/,
    );
    expect(result.stdout).toMatch(/version 1 \(aps_\w{12}\) stays valid until \d{4}-/);
  });

  it('says the previous key stopped at once with --grace 0', async () => {
    const result = await cli(['keys', 'rotate', '--org', 'acme', '--which', 'api-key', '--grace', '0'], env);
    expect(result.stdout).toContain(`version 1 (${org.keyIds.apiKey}) stopped working now`);
  });

  it.each([
    [
      ['--which', 'api-key', '--grace', '1w'],
      "agentpack: expected a duration like 0, 30s, 15m, 1h, 24h or 7d; found '1w'",
    ],
    [
      ['--which', 'api-key', '--grace', '45d'],
      'agentpack: a grace period must be 0 to 2592000 seconds (30d); found 3888000',
    ],
    [['--which', 'password'], "agentpack: expected api-key or agent-service-key; found 'password'"],
    [['--which', 'api-key', '--org', 'nope'], "agentpack: no organization with id or slug 'nope'"],
  ])('refuses %j with one line and exit 2, changing nothing', async (args, message) => {
    const before = db();
    const result = await cli(['keys', 'rotate', '--org', 'acme', ...args], env);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
    expect(db()).toBe(before);
  });
});

describe('error messages', () => {
  it('never echo a key pasted into an option', async () => {
    const result = await cli(['keys', 'rotate', '--org', org.apiKey, '--which', org.apiKey], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `agentpack: expected api-key or agent-service-key; found '${org.keyIds.apiKey}_...'\n`,
    );
    const other = await cli(['keys', 'show', '--org', org.apiKey], env);
    expect(other.stderr).toBe(`agentpack: no organization with id or slug '${org.keyIds.apiKey}_...'\n`);
  });
});

describe('agentpack keys end-grace', () => {
  it('stops the previous version now', async () => {
    await cli(['keys', 'rotate', '--org', 'acme', '--which', 'api-key', '--grace', '7d'], env);
    const ended = await json(['keys', 'end-grace', '--org', 'acme', '--which', 'api-key', '--json']);
    expect(ended.ended).toEqual([{ version: 1, keyId: org.keyIds.apiKey }]);
    expect((await json(['keys', 'show', '--org', 'acme', '--json'])).expiries).toEqual([]);
  });

  it('refuses when no grace period is running, changing nothing', async () => {
    const before = db();
    const result = await cli(['keys', 'end-grace', '--org', 'acme', '--which', 'api-key'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `agentpack: no grace period is running for the api-key of organization ${org.orgId}\n`,
    );
    expect(db()).toBe(before);
  });
});

describe('agentpack keys rewrap', () => {
  it('moves every record from the generated master.key to AGENTPACK_MASTER_KEY', async () => {
    const oldKey = (await readFile(join(dataDir, 'master.key'), 'utf8')).trim();
    const newKey = randomBytes(32).toString('base64');
    const withNewOnly = { ...env, AGENTPACK_MASTER_KEY: newKey };
    const refused = await cli(['keys', 'show', '--org', 'acme'], withNewOnly);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^agentpack: the database holds secrets sealed under master keys that are not configured: mk_/,
    );
    const rewrapped = await json(['keys', 'rewrap', '--json'], {
      ...withNewOnly,
      AGENTPACK_MASTER_KEYS_OLD: oldKey,
    });
    expect(rewrapped.rewrapped).toBe(2);
    expect((await json(['keys', 'show', '--org', 'acme', '--json'], withNewOnly)).apiKey).toBe(org.apiKey);
  });

  it('shows keys in text with the versions', async () => {
    const result = await cli(['keys', 'show', '--org', 'acme'], env);
    expect(result.stdout).toContain(`API key            ${org.apiKey}  (version 1)`);
  });

  it('refuses an unknown subcommand', async () => {
    expect((await cli(['keys', 'delete'], env)).stderr).toBe(
      "agentpack: keys: unknown subcommand 'delete' (expected rotate, end-grace, show, rewrap, rotate-signing)\n",
    );
  });
});
