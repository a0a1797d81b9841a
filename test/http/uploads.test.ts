import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type LoggedIn, login, type TestApp } from './harness.js';

let t: TestApp;
let session: LoggedIn;
let jar: Buffer;

beforeAll(async () => {
  t = await createTestApp();
  const password = 'pw-root-123456';
  const email = 'root@uploads.test';
  await t.services.credentials.addUser(
    { email, orgId: t.acme.orgId, role: 'admin', password, systemAdmin: true },
    'test',
  );
  session = await login(t.app, { userId: '', email, password, serviceKey: '' });
  jar = await readFile(new URL('../../fixtures/java-agent/agentpack-java-agent.jar', import.meta.url));
});

afterAll(async () => {
  await t.close();
});

/** Spool files left in the bundle layer's temp directory. */
async function spoolFiles(): Promise<string[]> {
  const names = await readdir(t.services.bundles.tmpDir).catch(() => [] as string[]);
  return names.filter((name) => name.startsWith('upload-'));
}

describe('POST /api/v1/agents/{kind}/versions/{version} and its Content-Type', () => {
  const types: [string, string | undefined][] = [
    ['1.1.0', 'application/octet-stream'],
    ['1.2.0', 'text/plain'],
    ['1.3.0', 'application/json'],
    ['1.4.0', 'text/plain; charset=utf-8'],
    ['1.5.0', 'application/x-www-form-urlencoded'],
    ['1.6.0', 'multipart/form-data; boundary=x'],
    ['1.7.0', undefined],
  ];
  for (const [version, type] of types) {
    it(`reads a body sent as ${type ?? 'no Content-Type'} as the archive's bytes, and leaves no spool file`, async () => {
      const headers: Record<string, string> = { ...session.headers };
      if (type !== undefined) headers['content-type'] = type;
      const upload = await t.app.inject({
        method: 'POST',
        url: `/api/v1/agents/java/versions/${version}`,
        headers,
        payload: jar,
      });
      expect(upload.statusCode, upload.body).toBe(201);
      expect(upload.json().sha256).toBe(createHash('sha256').update(jar).digest('hex'));
      expect(await spoolFiles()).toEqual([]);
    });
  }

  for (const type of ['text/plain', 'application/json', 'text/plain; charset=utf-8']) {
    it(`checks a ${type} body that is no archive and answers 422, leaving no spool file`, async () => {
      const upload = await t.app.inject({
        method: 'POST',
        url: '/api/v1/agents/java/versions/9.9.9',
        headers: { ...session.headers, 'content-type': type },
        payload: type.includes('json') ? '{"not":"an archive"}' : 'hello, not a zip',
      });
      expect(upload.statusCode).toBe(422);
      expect(upload.json().error).toBe('ARCHIVE_INVALID');
      expect(await spoolFiles()).toEqual([]);
      expect(await t.services.store.findAgentVersion('java', '9.9.9')).toBeUndefined();
    });
  }

  it('keeps JSON parsing for the other catalog routes (withdraw)', async () => {
    const withdraw = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/agents/java/versions/1.1.0',
      headers: session.headers,
      payload: { withdrawn: true },
    });
    expect(withdraw.statusCode).toBe(200);
    expect(withdraw.json().withdrawn).toBe(true);
  });

  it('spools into the data directory when the database is embedded', () => {
    expect(t.services.bundles.tmpDir).toBe(join(t.dataDir, 'tmp'));
  });
});
