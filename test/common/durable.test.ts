import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DurableFile,
  DurableWriteError,
  syncDirectory,
  TEMP_NAME,
  tempPathFor,
  writeAll,
  writeFileDurably,
} from '../../src/common/durable.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-durable-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const component = 'test writer';

describe('writeFileDurably', () => {
  it('writes text, bytes or what a producer writes, and returns what the producer returned', async () => {
    await writeFileDurably(join(dir, 'a.txt'), 'text\n', { component });
    await writeFileDurably(join(dir, 'b.bin'), Buffer.from([1, 2, 3]), { component });
    const returned = await writeFileDurably(
      join(dir, 'c.bin'),
      async (handle) => {
        await writeAll(handle, Buffer.from('from a producer'));
        return 42;
      },
      { component },
    );
    expect(returned).toBe(42);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('text\n');
    expect([...(await readFile(join(dir, 'b.bin')))]).toEqual([1, 2, 3]);
    expect(await readFile(join(dir, 'c.bin'), 'utf8')).toBe('from a producer');
    expect((await readdir(dir)).sort()).toEqual(['a.txt', 'b.bin', 'c.bin']);
  });

  it('replaces an existing file whole', async () => {
    const target = join(dir, 'file');
    await writeFile(target, 'a much longer old content');
    await writeFileDurably(target, 'new', { component });
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('keeps the old content and leaves no temp file when the producer fails mid-write', async () => {
    const target = join(dir, 'file');
    await writeFile(target, 'old');
    const broken = new Error('the source broke');
    await expect(
      writeFileDurably(
        target,
        async (handle) => {
          await writeAll(handle, Buffer.alloc(100_000, 1));
          throw broken;
        },
        { component },
      ),
    ).rejects.toBe(broken);
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('applies the mode to the new file', async () => {
    const secret = join(dir, 'secret');
    await writeFileDurably(secret, 'key', { component, mode: 0o600 });
    expect((await stat(secret)).mode & 0o777).toBe(0o600);
    await writeFile(join(dir, 'open'), 'x', { mode: 0o600 });
    await writeFileDurably(join(dir, 'open'), 'y', { component });
    expect((await stat(join(dir, 'open'))).mode & 0o777).toBe(0o644 & ~process.umask());
  });

  it('refuses to replace in exclusive mode: EEXIST, the first content stays, no temp file', async () => {
    const target = join(dir, 'master.key');
    await writeFileDurably(target, 'first', { component, exclusive: true, mode: 0o600 });
    const refused = await writeFileDurably(target, 'second', { component, exclusive: true }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DurableWriteError);
    expect(refused).toMatchObject({ code: 'EEXIST', path: target });
    expect(await readFile(target, 'utf8')).toBe('first');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['master.key']);
  });

  it('lets exactly one of several exclusive writers racing for one name win', async () => {
    const target = join(dir, 'once');
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        writeFileDurably(target, `writer ${i}`, { component, exclusive: true }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await readFile(target, 'utf8')).toMatch(/^writer \d$/);
    expect(await readdir(dir)).toEqual(['once']);
  });

  it('names the component and the target in a file-system failure, keeping the errno code and cause', async () => {
    const target = join(dir, 'occupied');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'x');
    const error = await writeFileDurably(target, 'data', { component }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurableWriteError);
    const failure = error as DurableWriteError;
    expect(failure.message).toMatch(
      new RegExp(`^test writer: could not write ${target}: rename failed \\(E`),
    );
    expect(failure.path).toBe(target);
    expect(['EISDIR', 'ENOTEMPTY', 'EEXIST']).toContain(failure.code);
    expect(failure.cause).toBeInstanceOf(Error);
    expect(await readdir(dir)).toEqual(['occupied']);
    expect(await readdir(target)).toEqual(['inside']);
  });

  it('reports a missing directory against the target, not the temp file', async () => {
    const target = join(dir, 'missing', 'file');
    await expect(writeFileDurably(target, 'x', { component })).rejects.toMatchObject({
      code: 'ENOENT',
      path: target,
      message: `test writer: could not write ${target}: creating a temp file failed (ENOENT)`,
    });
  });

  it('writes without fsync when asked, with the same all-or-nothing rule', async () => {
    const target = join(dir, 'cache');
    await writeFileDurably(target, 'cached', { component, sync: false });
    expect(await readFile(target, 'utf8')).toBe('cached');
    await expect(
      writeFileDurably(target, async () => Promise.reject(new Error('no')), { component, sync: false }),
    ).rejects.toThrow('no');
    expect(await readdir(dir)).toEqual(['cache']);
  });
});

describe('DurableFile', () => {
  it('keeps the temp file hidden beside the target until commit, under one recognizable name', async () => {
    const target = join(dir, 'bundle.jar');
    const file = await DurableFile.open(target, { component });
    expect(file.tempPath.startsWith(join(dir, '.bundle.jar.~tmp-'))).toBe(true);
    expect(TEMP_NAME.test(file.tempPath)).toBe(true);
    await file.write('part one, ');
    await file.write(Buffer.from('part two'));
    expect(await readdir(dir)).toEqual([file.tempPath.slice(dir.length + 1)]);
    await file.commit();
    expect(await readFile(target, 'utf8')).toBe('part one, part two');
    expect(await readdir(dir)).toEqual(['bundle.jar']);
  });

  it('removes the temp file on discard', async () => {
    const file = await DurableFile.open(join(dir, 'x'), { component });
    await file.write('abandoned');
    await file.discard();
    await file.discard();
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives temp files for very long names a name the file system accepts', async () => {
    const target = join(dir, 'n'.repeat(250));
    expect(TEMP_NAME.test(tempPathFor(target))).toBe(true);
    await writeFileDurably(target, 'long', { component });
    expect(await readFile(target, 'utf8')).toBe('long');
  });
});

describe('syncDirectory', () => {
  it('syncs an existing directory and reports a missing one', async () => {
    await syncDirectory(dir);
    await expect(syncDirectory(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
