import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentpackError } from '../../../src/common/errors.js';
import { createS3BlobStore, type S3BlobStoreOptions } from '../../../src/storage/blob/s3.js';
import type { BlobStore } from '../../../src/storage/blob/types.js';
import { type S3TestServer, startS3Server } from '../../helpers/s3server.js';
import { blobStoreContract, readAll, sha256 } from './contract.js';

const MiB = 1024 * 1024;
const OBJECT_SUFFIX = '._S3rver_object';

let server: S3TestServer;
let nextPrefix = 0;
const stores: BlobStore[] = [];

function options(overrides: Partial<S3BlobStoreOptions> = {}): S3BlobStoreOptions {
  return {
    bucket: server.bucket,
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
    // The smallest part S3 allows and a tiny list page, so the suite crosses part and page boundaries.
    partSize: 5 * MiB,
    listPageSize: 7,
    ...overrides,
  };
}

function open(overrides: Partial<S3BlobStoreOptions> = {}): BlobStore {
  const store = createS3BlobStore(options(overrides));
  stores.push(store);
  return store;
}

/** Object names as s3rver holds them on disk, read around the S3 API and the store's filters. */
async function rawObjects(prefix: string): Promise<string[]> {
  const bucketDir = path.join(server.directory, server.bucket);
  const entries = await readdir(bucketDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(OBJECT_SUFFIX))
    .map((e) => path.relative(bucketDir, path.join(e.parentPath, e.name)).slice(0, -OBJECT_SUFFIX.length))
    .filter((key) => key.startsWith(prefix));
}

beforeAll(async () => {
  server = await startS3Server();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.close();
});

describe('S3 blob store', () => {
  // Every harness gets its own key prefix in the one bucket, which makes it a fresh, empty store.
  blobStoreContract(async () => {
    const prefix = `t${nextPrefix++}/`;
    return { store: createS3BlobStore(options({ prefix })), rawNames: () => rawObjects(prefix) };
  });

  it('keeps stores with different prefixes apart and writes keys under the prefix', async () => {
    const one = open({ prefix: 'tenant-one/' });
    const two = open({ prefix: 'tenant-two/' });
    await one.put('same/key', Buffer.from('one'));
    await two.put('same/key', Buffer.from('two'));
    expect((await readAll(await one.get('same/key'))).toString()).toBe('one');
    expect((await readAll(await two.get('same/key'))).toString()).toBe('two');
    expect(await rawObjects('tenant-')).toEqual(
      expect.arrayContaining(['tenant-one/same/key', 'tenant-two/same/key']),
    );
  });

  it('records the sha256 as object metadata, also after a multipart upload', async () => {
    const store = open({ prefix: 'meta/' });
    const bytes = randomBytes(11 * MiB);
    await store.put('large', bytes);
    const created = server.requests.filter(
      (r) => r.method === 'POST' && r.url.includes('/meta/large?uploads'),
    );
    expect(created).toHaveLength(1);
    expect((await store.head('large'))?.sha256).toBe(sha256(bytes));
    await store.put('small', Buffer.from('tiny'));
    const put = server.requests.find(
      (r) => r.method === 'PUT' && r.url.startsWith(`/${server.bucket}/meta/small?`),
    );
    expect(put?.headers['x-amz-meta-sha256']).toBe(sha256(Buffer.from('tiny')));
  });

  it('translates a missing bucket into a 502 that names the store and keeps the cause', async () => {
    const store = open({ bucket: 'no-such-bucket' });
    const error = await store.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentpackError);
    expect(error).toMatchObject({ code: 'STORAGE_FAILED', status: 502 });
    expect((error as Error).message).toMatch(
      /^S3 blob store \(bucket "no-such-bucket"\): get "k" failed \(NoSuchBucket/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('translates an unreachable endpoint into a 503', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const store = open({ endpoint: `http://127.0.0.1:${port}` });
    const error = await store.put('k', Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503 });
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  for (const [name, bad, message] of [
    ['a bucket name with capitals', { bucket: 'Bad_Bucket' }, /bucket name/],
    ['a prefix without a trailing slash', { prefix: 'agentpack' }, /key prefix/],
    ['a prefix with ..', { prefix: '../x/' }, /key prefix/],
    ['a part size below the S3 minimum', { partSize: 1024 }, /partSize/],
    ['a list page above 1000', { listPageSize: 5000 }, /listPageSize/],
  ] as const) {
    it(`refuses ${name}`, () => {
      expect(() => createS3BlobStore(options(bad))).toThrow(message);
    });
  }
});
