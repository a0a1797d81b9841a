import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/common/errors.js';
import { createFsBlobStore } from '../../../src/storage/blob/fs.js';
import { blobStoreContract, readAll, sha256, sourceOf } from './contract.js';

const roots: string[] = [];

async function newRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'agentpack-blob-'));
  roots.push(root);
  return root;
}

/** Every file below `root`, temp files and sidecars included. */
async function filesBelow(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('fs blob store', () => {
  blobStoreContract(async () => {
    const root = await newRoot();
    return { store: createFsBlobStore({ root }), rawNames: () => filesBelow(root) };
  });

  it('a reader that opened the old version keeps reading it across an overwrite', async () => {
    const store = createFsBlobStore({ root: await newRoot() });
    const old = randomBytes(4 * 1024 * 1024);
    await store.put('pinned', old);
    const reader = await store.get('pinned');
    await store.put('pinned', randomBytes(1000));
    expect((await readAll(reader)).equals(old)).toBe(true);
  });

  it('concurrent puts to one key leave one complete version carrying its own digest', async () => {
    const store = createFsBlobStore({ root: await newRoot() });
    const versions = Array.from({ length: 6 }, () => randomBytes(600_000));
    await Promise.all(versions.map((v) => store.put('contended', sourceOf(v, { chunkSize: 50_000 }))));
    const stored = await readAll(await store.get('contended'));
    expect(versions.some((v) => v.equals(stored))).toBe(true);
    expect((await store.head('contended'))?.sha256).toBe(sha256(stored));
  });

  it('re-hashes, never reports a stale digest, when the file changed behind its sidecar', async () => {
    const root = await newRoot();
    const store = createFsBlobStore({ root });
    await store.put('edited', Buffer.from('original'));
    await writeFile(path.join(root, 'edited'), 'tampered');
    expect(await store.head('edited')).toMatchObject({ size: 8, sha256: sha256(Buffer.from('tampered')) });
    await rm(path.join(root, 'edited~meta'));
    expect((await store.head('edited'))?.sha256).toBe(sha256(Buffer.from('tampered')));
    expect((await filesBelow(root)).sort()).toEqual(['edited', 'edited~meta']);
  });

  it('keeps temp files and sidecars out of listings and names them so no key can collide', async () => {
    const root = await newRoot();
    const store = createFsBlobStore({ root });
    await store.put('x/file', Buffer.from('1'));
    await store.put('x/file.meta', Buffer.from('2'));
    await writeFile(path.join(root, 'x', '~tmp-leftover'), 'partial');
    expect((await filesBelow(root)).sort()).toEqual([
      'x/file',
      'x/file.meta',
      'x/file.meta~meta',
      'x/file~meta',
      'x/~tmp-leftover',
    ]);
    const listed: string[] = [];
    for await (const entry of store.list('')) listed.push(entry.key);
    expect(listed).toEqual(['x/file', 'x/file.meta']);
  });

  it('lists in byte order of the keys, as S3 does', async () => {
    const store = createFsBlobStore({ root: await newRoot() });
    for (const key of ['a0', 'a/b', 'a-c', 'a/a/z', 'b']) await store.put(key, Buffer.from(key));
    const listed: string[] = [];
    for await (const entry of store.list('')) listed.push(entry.key);
    expect(listed).toEqual(['a-c', 'a/a/z', 'a/b', 'a0', 'b']);
  });

  it('removes directories that deleting the last key emptied', async () => {
    const root = await newRoot();
    const store = createFsBlobStore({ root });
    await store.put('deep/er/key', Buffer.from('x'));
    await store.put('deep/sibling', Buffer.from('y'));
    await store.delete('deep/er/key');
    await expect(stat(path.join(root, 'deep', 'er'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(path.join(root, 'deep'))).isDirectory()).toBe(true);
    await store.put('deep/er/key', Buffer.from('again'));
    expect((await readAll(await store.get('deep/er/key'))).toString()).toBe('again');
  });

  it('cannot hold a key and keys below it at once, and says so with 409', async () => {
    const store = createFsBlobStore({ root: await newRoot() });
    await store.put('a', Buffer.from('file'));
    const error = await store.put('a/b', Buffer.from('below')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain('"a/b"');
    expect((await readAll(await store.get('a'))).toString()).toBe('file');
  });

  it('refuses to start without a root directory', () => {
    expect(() => createFsBlobStore({ root: '' })).toThrow(/expected a root directory/);
  });
});
