import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import type { BlobStore } from '../../src/storage/blob/types.js';
import { agentHeaders, apiHeaders, createTestApp, type TestApp } from './harness.js';

const exec = promisify(execFile);

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('GET /healthz', () => {
  it('answers 200 {status: ok}', async () => {
    const response = await t.app.inject({ url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });
});

describe('GET /readyz', () => {
  it('answers 200 when the metadata and blob stores answer', async () => {
    const response = await t.app.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ready',
      checks: { metadata: 'ok', system: 'ok', blobs: 'ok', disk: 'ok' },
    });
  });

  it('answers 503 with disk failed when the local disk has less free space than required', async () => {
    const app = await buildApp(
      { ...t.services, config: { ...t.config, diskMinFreeBytes: Number.MAX_SAFE_INTEGER } },
      t.config,
      { logger: false },
    );
    try {
      const response = await app.inject({ url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        status: 'unavailable',
        checks: { metadata: 'ok', system: 'ok', blobs: 'ok', disk: 'failed' },
      });
    } finally {
      await app.close();
    }
  });

  it('answers 503 naming the store that fails', async () => {
    const broken: BlobStore = {
      ...t.services.blobs,
      head: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    };
    const app = await buildApp({ ...t.services, blobs: broken }, t.config, { logger: false });
    try {
      const response = await app.inject({ url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        status: 'unavailable',
        checks: { metadata: 'ok', system: 'ok', blobs: 'failed', disk: 'ok' },
      });
    } finally {
      await app.close();
    }
  });
});

describe('GET /.well-known/agentpack/signing-key.pem and jwks.json', () => {
  it('publish the current signing key: a PEM openssl reads and a JWKS with the same key id', async () => {
    const pem = await t.app.inject({ url: '/.well-known/agentpack/signing-key.pem' });
    expect(pem.statusCode).toBe(200);
    expect(pem.headers['content-type']).toBe('application/x-pem-file');
    const file = join(t.dataDir, 'published.pem');
    await writeFile(file, pem.body);
    const { stdout } = await exec('openssl', ['pkey', '-pubin', '-in', file, '-noout', '-text']);
    expect(stdout).toMatch(/ED25519 Public-Key/);

    const jwks = await t.app.inject({ url: '/.well-known/agentpack/jwks.json' });
    const current = await t.services.signing.current();
    expect(jwks.json()).toEqual({
      keys: [
        { kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: current.keyId, use: 'sig', alg: 'EdDSA' },
      ],
    });
    expect(pem.headers['key-id']).toBe(current.keyId);
    expect(jwks.body).not.toContain('"d"');
  });

  it('list a rotated-out key beside the new current one', async () => {
    const before = await t.services.signing.current();
    const rotated = await t.services.signing.rotate();
    const jwks = (await t.app.inject({ url: '/.well-known/agentpack/jwks.json' })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([before.keyId, rotated.current.keyId]);
    const pem = await t.app.inject({ url: '/.well-known/agentpack/signing-key.pem' });
    expect(pem.headers['key-id']).toBe(rotated.current.keyId);
  });
});

describe('GET /docs and /docs/json', () => {
  it('serve an OpenAPI 3 document listing the routes with their schemas', async () => {
    const response = await t.app.inject({ url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/healthz',
      '/readyz',
      '/api/v1/session',
      '/api/v1/orgs/{orgId}/keys',
      '/api/v1/orgs/{orgId}/keys/{which}/rotate',
      '/api/v1/orgs/{orgId}/keys/sample-request',
      '/api/v1/orgs/{orgId}/audit',
      '/agents/v1/handshake',
      '/.well-known/agentpack/jwks.json',
      '/metrics',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const rotate = doc.paths['/api/v1/orgs/{orgId}/keys/{which}/rotate'].post;
    expect(rotate.requestBody.content['application/json'].schema.properties.graceSeconds.maximum).toBe(
      2592000,
    );
    expect(Object.keys(rotate.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404']),
    );
  });

  it('serves the Swagger UI page with its assets from this server, not a CDN', async () => {
    const page = await t.app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const sources = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    const script = sources.find((s) => s.endsWith('swagger-ui-bundle.js')) ?? '';
    const asset = await t.app.inject({ url: new URL(script, 'http://x/docs/').pathname });
    expect(asset.statusCode).toBe(200);
    expect(page.body).not.toMatch(/<script>[^<]/);
  });
});

describe('GET /metrics', () => {
  it('exposes Prometheus counters that move with requests', async () => {
    const value = (text: string, series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };
    const series = 'agentpack_http_requests_total{method="GET",route="/healthz",status="200"}';
    const first = await t.app.inject({ url: '/metrics' });
    expect(first.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(first.body).toContain('# TYPE agentpack_downloads_total counter');
    expect(first.body).toContain('# TYPE agentpack_bundle_build_seconds histogram');
    expect(first.body).toContain('agentpack_bundle_cache_hits_total 0');
    await t.app.inject({ url: '/healthz' });
    await t.app.inject({ url: '/healthz' });
    await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: { ...agentHeaders(t.acme), 'api-key': 'x' },
    });
    t.services.metrics.downloads.inc({ format: 'jar' });
    const second = (await t.app.inject({ url: '/metrics' })).body;
    expect(value(second, series) - value(first.body, series)).toBe(2);
    expect(value(second, 'agentpack_auth_failures_total{kind="agent"}')).toBe(1);
    expect(value(second, 'agentpack_downloads_total{format="jar"}')).toBe(1);
  });

  it('labels requests by route pattern, never by the raw URL', async () => {
    await t.app.inject({ url: `/api/v1/orgs/${t.acme.orgId}/keys`, headers: apiHeaders(t.admin, t.acme) });
    const text = (await t.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('route="/api/v1/orgs/:orgId/keys"');
    expect(text).not.toContain(t.acme.orgId);
  });
});

describe('security headers', () => {
  it('are set on every answer, with a CSP that allows no inline script and no other origin', async () => {
    for (const url of ['/healthz', '/docs/', '/api/v1/orgs', '/no/such/route']) {
      const response = await t.app.inject({ url });
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('are the REST API set on the agent routes: no framing, no sniffing, no referrer, a deny-all CSP', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/agents/v1/handshake' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('add HSTS only when the public URL is https', async () => {
    expect((await t.app.inject({ url: '/healthz' })).headers['strict-transport-security']).toBeUndefined();
    const https = await buildApp(
      t.services,
      { ...t.config, publicUrl: 'https://agentpack.example.com' },
      { logger: false },
    );
    try {
      const response = await https.inject({ url: '/healthz' });
      expect(response.headers['strict-transport-security']).toMatch(/max-age=31536000/);
      expect(response.headers['content-security-policy']).toContain('upgrade-insecure-requests');
      const agent = await https.inject({ method: 'POST', url: '/agents/v1/handshake' });
      expect(agent.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    } finally {
      await https.close();
    }
  });
});

describe('errors', () => {
  it('answer 404 with a message for an unknown route', async () => {
    const response = await t.app.inject({ url: '/api/v1/nothing-here?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'NOT_FOUND', message: 'no route GET /api/v1/nothing-here' });
  });

  it('answer 400 with a message for a body that is not JSON', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('BAD_REQUEST');
    expect(response.json().message).toMatch(/JSON/);
  });

  it('answer a 5xx with a generic body; the details go to the log only', async () => {
    const credentials = Object.assign(
      Object.create(Object.getPrototypeOf(t.services.credentials)),
      t.services.credentials,
      {
        verifyPassword: async () => {
          throw new Error('database exploded at /var/lib/secret-path');
        },
      },
    );
    const lines: string[] = [];
    const app = await buildApp({ ...t.services, credentials }, t.config, {
      logger: { stream: { write: (line: string) => lines.push(line) } },
    });
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: t.admin.email, password: t.admin.password },
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ error: 'INTERNAL', message: 'internal error' });
      expect(response.body).not.toContain('exploded');
      expect(lines.join('')).toContain('database exploded');
    } finally {
      await app.close();
    }
  });
});
