import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartFile } from '../../src/client/part-file.js';
import { writeAll } from '../../src/common/durable.js';

const hex = 'a'.repeat(64);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-part-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PartFile', () => {
  it('lives hidden beside the target, with its ETag in a sidecar', async () => {
    const part = new PartFile(join(dir, 'agent.jar'));
    expect(part.path).toBe(join(dir, '.agent.jar.part'));
    const handle = await part.open(hex, 0);
    await writeAll(handle, Buffer.from('hello'));
    await handle.close();
    expect(await readFile(part.etagPath, 'utf8')).toBe(`"${hex}"\n`);
    expect((await stat(part.path)).mode & 0o777).toBe(0o600);
    expect(await part.resumableBytes(hex)).toBe(5);
  });

  it('appends from the offset and hashes what is already there', async () => {
    const part = new PartFile(join(dir, 'agent.jar'));
    const bytes = randomBytes(100_000);
    let handle = await part.open(hex, 0);
    await writeAll(handle, bytes.subarray(0, 60_000));
    await handle.close();
    const hash = await part.hashOfFirst(60_000);
    handle = await part.open(hex, 60_000);
    await writeAll(handle, bytes.subarray(60_000));
    await handle.close();
    hash.update(bytes.subarray(60_000));
    expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await readFile(part.path)).equals(bytes)).toBe(true);
  });

  it('removes a part file of another bundle, or one without its sidecar', async () => {
    const part = new PartFile(join(dir, 'agent.jar'));
    await writeFile(part.path, 'old');
    await writeFile(part.etagPath, `"${'b'.repeat(64)}"\n`);
    expect(await part.resumableBytes(hex)).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    await writeFile(part.path, 'orphan');
    expect(await part.resumableBytes(hex)).toBe(0);
    expect(existsSync(part.path)).toBe(false);
  });

  it('commits by renaming over the target and dropping the sidecar', async () => {
    const target = join(dir, 'agent.jar');
    await writeFile(target, 'previous');
    const part = new PartFile(target);
    const handle = await part.open(hex, 0);
    await writeAll(handle, Buffer.from('new'));
    await handle.close();
    await part.commit();
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['agent.jar']);
  });
});
