import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createBundleLayer } from '../../src/bundles/layer.js';
import { InsufficientStorageError, UnavailableError } from '../../src/common/errors.js';
import { buildApp } from '../../src/http/app.js';
import errors from '../../src/http/plugins/app/errors.js';
import type { BlobStore } from '../../src/storage/blob/types.js';
import { startS3Server } from '../helpers/s3server.js';
import { apiHeaders, createTestApp, login, type TestApp } from './harness.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

const bundleUrl = (orgId: string) => `/api/v1/orgs/${orgId}/agents/java/latest/bundle`;

async function adminSession(t: TestApp) {
  const password = 'pw-root-123456';
  const email = 'root@faults.test';
  await t.services.credentials.addUser(
    { email, orgId: t.acme.orgId, role: 'admin', password, systemAdmin: true },
    'test',
  );
  return login(t.app, { userId: '', email, password, serviceKey: '' });
}

/** The answer every unavailable dependency gets: 503, Retry-After, JSON naming it, no bundle headers. */
function expectUnavailable(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  code: string,
  what: string,
) {
  expect(response.statusCode, response.body).toBe(503);
  expect(response.headers['retry-after']).toBe('5');
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(response.body)).toEqual({
    error: code,
    message: `the ${what} is unavailable; retry later`,
  });
  for (const header of ['content-disposition', 'etag', 'repr-digest', 'link', 'content-range'])
    expect(response.headers[header]).toBeUndefined();
}

describe('a blob store (S3) that is down', () => {
  it('answers 503 STORAGE_UNAVAILABLE with Retry-After to bundle downloads (both formats) and uploads', async () => {
    const s3 = await startS3Server();
    const t = await createTestApp({
      env: {
        AGENTPACK_S3_BUCKET: s3.bucket,
        AGENTPACK_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AGENTPACK_S3_TIMEOUT_MS: '2000',
      },
    });
    opened.push(t);
    const session = await adminSession(t);
    const headers = apiHeaders(t.member, t.acme);
    // Built while S3 answers, so the record and the tail exist; only the base's bytes are missing later.
    expect((await t.app.inject({ url: bundleUrl(t.acme.orgId), headers })).statusCode).toBe(200);
    await s3.close();

    expectUnavailable(
      await t.app.inject({ url: bundleUrl(t.acme.orgId), headers }),
      'STORAGE_UNAVAILABLE',
      'blob store',
    );
    expectUnavailable(
      await t.app.inject({ url: `${bundleUrl(t.acme.orgId)}?format=zip`, headers }),
      'STORAGE_UNAVAILABLE',
      'blob store',
    );
    const jar = await readFile(
      new URL('../../fixtures/java-agent/agentpack-java-agent.jar', import.meta.url),
    );
    expectUnavailable(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/agents/java/versions/3.0.0',
        headers: { ...session.headers, 'content-type': 'application/java-archive' },
        payload: jar,
      }),
      'STORAGE_UNAVAILABLE',
      'blob store',
    );
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.blobs).toBe('failed');
  });
});

describe('a blob store with no space left', () => {
  it('answers 507 INSUFFICIENT_STORAGE to an upload, and stores nothing', async () => {
    const t = await createTestApp();
    opened.push(t);
    const session = await adminSession(t);
    const full: BlobStore = {
      ...t.services.blobs,
      put: async (key) => {
        throw new InsufficientStorageError('storage', `fs blob store: put "${key}" failed (ENOSPC)`);
      },
    };
    const bundles = createBundleLayer({
      ops: t.services.store,
      blobs: full,
      credentials: t.services.credentials,
      signingKey: () => t.services.signing.current(),
      secret: t.services.linkKey,
      publicUrl: t.config.publicUrl,
      limits: t.config.limits,
      tmpDir: t.services.bundles.tmpDir,
      now: t.services.now,
    });
    const app = await buildApp({ ...t.services, blobs: full, bundles }, t.config, { logger: false });
    opened.push({
      async close() {
        await app.close();
        await bundles.close();
      },
    });
    const jar = await readFile(
      new URL('../../fixtures/java-agent/agentpack-java-agent.jar', import.meta.url),
    );
    const upload = await app.inject({
      method: 'POST',
      url: '/api/v1/agents/java/versions/3.1.0',
      headers: { ...session.headers, 'content-type': 'application/java-archive' },
      payload: jar,
    });
    expect(upload.statusCode).toBe(507);
    expect(upload.json()).toEqual({
      error: 'INSUFFICIENT_STORAGE',
      message: 'the blob store has no space left; nothing was stored',
    });
    expect(upload.headers['content-type']).toMatch(/^application\/json/);
    expect(await t.services.store.findAgentVersion('java', '3.1.0')).toBeUndefined();
  });
});

describe('the error handler', () => {
  it('answers JSON, not the archive type, when a stream body fails before its first byte', async () => {
    const app = Fastify({ logger: false });
    opened.push(app);
    await app.register(errors);
    app.get('/archive', async (_request, reply) => {
      const body = new Readable({
        read() {
          this.destroy(new UnavailableError('storage', 'S3 blob store: get "k" failed (ECONNREFUSED)'));
        },
      });
      reply
        .type('application/java-archive')
        .header('Content-Length', '1000')
        .header('Content-Disposition', 'attachment; filename="a.jar"')
        .header('ETag', '"abc"');
      return reply.send(body);
    });
    const response = await app.inject({ url: '/archive' });
    expectUnavailable(response, 'STORAGE_UNAVAILABLE', 'blob store');
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)));
  });

  it('ends a response whose status line is out with a short body, never a second body', async () => {
    const app = Fastify({ logger: false });
    opened.push(app);
    await app.register(errors);
    let failNow = (): void => undefined;
    const failed = new Promise<void>((resolve) => (failNow = resolve));
    app.get('/archive', async (_request, reply) => {
      let sent = false;
      const body = new Readable({
        read() {
          if (sent) {
            // Fails once the client has the status line.
            void failed.then(() => this.destroy(new UnavailableError('storage', 'S3 went away mid-body')));
            return;
          }
          sent = true;
          this.push(Buffer.alloc(100, 1));
        },
      });
      reply.type('application/java-archive').header('Content-Length', '1000');
      return reply.send(body);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${address.port}/archive`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/java-archive');
    failNow();
    const read = await response.arrayBuffer().then(
      (bytes) => ({ ok: true, length: bytes.byteLength }),
      () => ({ ok: false, length: -1 }),
    );
    expect(read.ok).toBe(false);
  });

  it('describes a database that is unavailable by name', async () => {
    const app = Fastify({ logger: false });
    opened.push(app);
    await app.register(errors);
    app.get('/keys', async () => {
      throw new UnavailableError('database', 'PostgreSQL store: query failed (57P01 admin_shutdown)');
    });
    expectUnavailable(await app.inject({ url: '/keys' }), 'DATABASE_UNAVAILABLE', 'database');
  });
});
