import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, type ServeProcess, startServe } from '../helpers/serve-process.js';

let dir: string;
let server: ServeProcess | undefined;

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'agentpack-e2e-sweep-'));
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited (as one killed during an upload). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('agentpack serve after a crash', () => {
  it('removes the spool and blob temp files the crashed process left, and logs how many bytes it freed', async () => {
    const data = join(dir, 'data');
    const dead = await deadPid();
    await mkdir(join(data, 'tmp'), { recursive: true });
    await mkdir(join(data, 'blobs', 'bases', 'java', '7.0.0'), { recursive: true });
    const stale = [
      [join(data, 'tmp', `upload-${dead}-0123456789abcdef`), 3000],
      [join(data, 'blobs', 'bases', 'java', '7.0.0', `~tmp-${dead}-0123456789abcdef`), 700],
    ] as const;
    for (const [path, size] of stale) await writeFile(path, Buffer.alloc(size));
    // Durable writes (common/durable.ts) name no process: they are garbage once old enough.
    const durableLeftovers = [
      [join(data, '.signing-keys.json.~tmp-0123456789abcdef'), 50],
      [join(data, 'blobs', 'bases', 'java', '7.0.0', '.abc.~tmp-fedcba9876543210'), 250],
    ] as const;
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    for (const [path, size] of durableLeftovers) {
      await writeFile(path, Buffer.alloc(size));
      await utimes(path, dayAgo, dayAgo);
    }
    const started = await startServe(dir, { PORT: '0', AGENTPACK_DATA_DIR: data });
    server = started;
    const line = await new Promise<string>((resolve) => {
      const look = () => {
        const found = started
          .stderr()
          .split('\n')
          .find((l) => l.includes('leftover temp files'));
        if (found === undefined) return;
        started.child.stderr?.off('data', look);
        resolve(found);
      };
      started.child.stderr?.on('data', look);
      look();
    });
    expect(JSON.parse(line)).toMatchObject({
      files: 4,
      bytes: 4000,
      msg: 'removed 4 leftover temp files (4000 bytes)',
    });
    for (const [path] of [...stale, ...durableLeftovers]) expect(existsSync(path), path).toBe(false);
    const stopped = await started.stop();
    server = undefined;
    expect(stopped.code).toBe(0);
  }, 120_000);
});
