import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openCredentials } from '../../src/credentials/open.js';
import { cli } from '../credentials/cli-harness.js';
import { dumpSqlite } from '../storage/db/sqlite-dump.js';

let dataDir: string;
let env: NodeJS.ProcessEnv;
let orgId: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agentpack-cli-user-'));
  env = { AGENTPACK_DATA_DIR: dataDir, USER: 'tester' };
  orgId = JSON.parse((await cli(['org', 'create', 'Acme', '--json'], env)).stdout).orgId;
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const db = () => dumpSqlite(join(dataDir, 'agentpack.db'));

describe('agentpack user add', () => {
  it('creates the user with the password from stdin and prints the personal service key', async () => {
    const result = await cli(
      ['user', 'add', 'Alice@Example.com', '--org', 'acme', '--role', 'admin', '--password-stdin', '--json'],
      env,
      'correct horse battery\n',
    );
    expect(result.stderr).toBe('');
    const user = JSON.parse(result.stdout);
    expect(user).toEqual({
      userId: expect.any(String),
      email: 'alice@example.com',
      orgId,
      role: 'admin',
      created: true,
      serviceKey: expect.stringMatching(/^apu_/),
    });
    const opened = await openCredentials(loadConfig(env, '/'));
    try {
      expect(
        (await opened.credentials.verifyPassword('alice@example.com', 'correct horse battery'))?.userId,
      ).toBe(user.userId);
      const [entry] = (await opened.credentials.listAudit(orgId, { limit: 1 })).entries;
      expect(entry).toMatchObject({ action: 'user.added', actor: 'cli:tester' });
    } finally {
      await opened.close();
    }
  });

  it('prints text output, and marks a system admin', async () => {
    const result = await cli(
      ['user', 'add', 'root@example.com', '--org', orgId, '--role', 'member', '--system-admin'],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^user root@example.com created and added to ${orgId} as member\\n {2}user id +[0-9a-f-]{36}\\n {2}personal service key +apu_`,
      ),
    );
  });

  it.each([
    [
      ['bob', '--org', 'acme', '--role', 'member'],
      "agentpack: expected an e-mail address like name@example.com; found 'bob'",
    ],
    [
      ['bob@example.com', '--org', 'nope', '--role', 'member'],
      "agentpack: no organization with id or slug 'nope'",
    ],
    [
      ['bob@example.com', '--org', 'acme', '--role', 'owner'],
      "agentpack: expected role admin or member; found 'owner'",
    ],
    [['bob@example.com', '--role', 'member'], 'agentpack: missing required option --org'],
  ])('refuses %j with one line and exit 2, changing nothing', async (args, message) => {
    const before = db();
    const result = await cli(['user', 'add', ...args], env);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
    expect(db()).toBe(before);
  });

  it('refuses a short password from stdin, changing nothing', async () => {
    const before = db();
    const result = await cli(
      ['user', 'add', 'bob@example.com', '--org', 'acme', '--role', 'member', '--password-stdin'],
      env,
      'short\n',
    );
    expect(result.stderr).toBe('agentpack: a password must have 8 to 1024 characters; found 5\n');
    expect(result.code).toBe(2);
    expect(db()).toBe(before);
  });

  it('refuses a second membership in the same organization, changing nothing', async () => {
    await cli(['user', 'add', 'bob@example.com', '--org', 'acme', '--role', 'member'], env);
    const before = db();
    const result = await cli(['user', 'add', 'bob@example.com', '--org', 'acme', '--role', 'admin'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`agentpack: bob@example.com is already a member of organization ${orgId}\n`);
    expect(db()).toBe(before);
  });

  it('does not create a database for a data directory that has none', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'agentpack-cli-user-'));
    try {
      const result = await cli(['user', 'add', 'bob@example.com', '--org', 'acme', '--role', 'member'], {
        AGENTPACK_DATA_DIR: empty,
      });
      expect(result.code).toBe(2);
      expect(await readdir(empty)).toEqual([]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
