import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLargeJar } from '../../fixtures/generate-large-jar.mjs';
import { type S3TestServer, startS3Server } from '../helpers/s3server.js';
import { apiHeaders, createTestApp, login, type TestApp } from './harness.js';

/**
 * Bundle downloads over real sockets, with curl, from a base large enough to take many reads:
 * on disk the prefix is written through reused buffers, on S3 it streams from ranged GETs.
 */

const run = promisify(execFile);
const VERSION = '3.0.0';
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let work: string;
let jar: Buffer;
let s3: S3TestServer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agentpack-bundle-download-'));
  const generated = await generateLargeJar({ out: join(work, 'base.jar'), entries: 300, sizeMb: 3, seed: 4 });
  jar = await readFile(generated.out);
  s3 = await startS3Server();
}, 60_000);

afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

const stores: { name: string; env: () => Record<string, string> }[] = [
  { name: 'on disk', env: () => ({}) },
  {
    name: 'on S3',
    env: () => ({
      AGENTPACK_S3_BUCKET: s3.bucket,
      AGENTPACK_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    }),
  },
];

for (const store of stores) {
  describe(`GET .../bundle over a socket, with the blobs ${store.name}`, () => {
    let t: TestApp;
    let url: string;
    let curlHeaders: string[];

    beforeAll(async () => {
      t = await createTestApp({ env: store.env() });
      const email = 'root@agentpack.test';
      const password = 'pw-root-123456';
      await t.services.credentials.addUser(
        { email, orgId: t.acme.orgId, role: 'admin', password, systemAdmin: true },
        'test',
      );
      const session = await login(t.app, { userId: '', email, password, serviceKey: '' });
      const upload = await t.app.inject({
        method: 'POST',
        url: `/api/v1/agents/java/versions/${VERSION}`,
        headers: { ...session.headers, 'content-type': 'application/java-archive' },
        payload: jar,
      });
      expect(upload.statusCode).toBe(201);
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as AddressInfo;
      url = `http://127.0.0.1:${port}/api/v1/orgs/${t.acme.orgId}/agents/java/${VERSION}/bundle`;
      curlHeaders = Object.entries(apiHeaders(t.member, t.acme)).flatMap(([name, value]) => [
        '-H',
        `${name}: ${value}`,
      ]);
    }, 60_000);

    afterAll(async () => {
      await t?.close();
    });

    async function curl(args: string[]): Promise<string> {
      return (await run('curl', ['-sS', '--fail', ...curlHeaders, ...args], { cwd: work })).stdout;
    }

    it('sends the bundle three times over one connection, each time the bytes its ETag names', async () => {
      const files = [1, 2, 3].map((i) => `${store.name.replace(' ', '-')}-${i}.jar`);
      const written = await curl([
        '-w',
        '%{http_code} %{num_connects} %{size_download}\\n',
        ...files.flatMap((file) => ['-o', file, url]),
      ]);
      const head = await curl(['-I', url]);
      const etag = /^etag: "([0-9a-f]{64})"/im.exec(head)?.[1];
      const size = Number(/^content-length: (\d+)/im.exec(head)?.[1]);
      expect(size).toBeGreaterThan(jar.length);
      expect(written.trim().split('\n')).toEqual([`200 1 ${size}`, `200 0 ${size}`, `200 0 ${size}`]);
      for (const file of files) expect(sha256(await readFile(join(work, file)))).toBe(etag);
      const listing = (await run('unzip', ['-l', join(work, files[0] as string)])).stdout;
      expect(listing).toContain('agentpack.properties');
    });

    it('sends ranges inside the prefix, across chunk boundaries and into the tail', async () => {
      const binary = { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 } as const;
      const whole = Buffer.from((await run('curl', ['-sS', '--fail', ...curlHeaders, url], binary)).stdout);
      const size = whole.length;
      for (const [start, end] of [
        [0, 0],
        [1, 524_289],
        [524_287, size - 1],
        [size - 5_000, size - 1],
      ] as const) {
        const part = await run(
          'curl',
          ['-sS', '--fail', ...curlHeaders, '-r', `${start}-${end}`, url],
          binary,
        );
        expect(sha256(Buffer.from(part.stdout))).toBe(sha256(whole.subarray(start, end + 1)));
      }
    });

    it('serves the next download in full after a client hung up in the middle of one', async () => {
      await new Promise<void>((resolve, reject) => {
        const client = request(url, { headers: apiHeaders(t.member, t.acme) }, (response) => {
          response.once('data', () => {
            client.destroy();
            resolve();
          });
        });
        client.on('error', (error) => (client.destroyed ? undefined : reject(error)));
        client.end();
      });
      const written = await curl(['-w', '%{http_code} %{size_download}', '-o', '/dev/null', url]);
      const size = Number(/^content-length: (\d+)/im.exec(await curl(['-I', url]))?.[1]);
      expect(written).toBe(`200 ${size}`);
    });

    if (store.name === 'on disk')
      it('answers 500 before sending anything when the stored base is shorter than its bundle needs', async () => {
        // The stored base is the one blob of the jar's size (the sidecars are small).
        const entries = await readdir(join(t.dataDir, 'blobs'), { recursive: true, withFileTypes: true });
        const stored: string[] = [];
        for (const entry of entries) {
          const file = join(entry.parentPath, entry.name);
          if (entry.isFile() && (await stat(file)).size === jar.length) stored.push(file);
        }
        expect(stored).toHaveLength(1);
        await truncate(stored[0] as string, 1000);
        const response = await t.app.inject({
          method: 'GET',
          url: new URL(url).pathname,
          headers: apiHeaders(t.member, t.acme),
        });
        expect(response.statusCode).toBe(500);
        expect(response.json()).toEqual({ error: 'INTERNAL', message: 'internal error' });
        expect(t.logs.join('\n')).toContain('to hold at least');
      });
  });
}
