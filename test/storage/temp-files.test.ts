import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openServices, type Services } from '../../src/services.js';
import {
  claimTemp,
  localDiskError,
  releaseTemp,
  type SweepResult,
  sweepTempFiles,
  tempName,
} from '../../src/storage/temp-files.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentpack-sweep-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

async function file(path: string, bytes: number, ageMs = 0): Promise<string> {
  await writeFile(path, Buffer.alloc(bytes, 7));
  if (ageMs > 0) {
    const then = new Date(Date.now() - ageMs);
    await utimes(path, then, then);
  }
  return path;
}

const DAY = 24 * 3600_000;

describe('sweepTempFiles', () => {
  it('removes temp files of dead processes, unclaimed ones of this process and old ones, and says how many bytes', async () => {
    const dir = await tempDir();
    const dead = await deadPid();
    const gone = [
      await file(join(dir, `upload-${dead}-aaaaaaaaaaaaaaaa`), 1000),
      await file(join(dir, `upload-${process.pid}-bbbbbbbbbbbbbbbb`), 200),
      await file(join(dir, 'upload-0123456789abcdef'), 30, 2 * DAY),
    ];
    const live = join(dir, tempName('upload-'));
    claimTemp(live);
    cleanup.push(async () => releaseTemp(live));
    const kept = [
      await file(live, 5),
      // Another process that is running (our parent), and a recent file without a pid.
      await file(join(dir, `upload-${process.ppid}-cccccccccccccccc`), 5),
      await file(join(dir, 'upload-fedcba9876543210'), 5),
      await file(join(dir, 'notes.txt'), 5, 2 * DAY),
    ];
    const result = await sweepTempFiles([{ dir, prefixes: ['upload-'] }], { maxAgeMs: DAY });
    expect(result).toEqual({ files: 3, bytes: 1230 });
    for (const path of gone) expect(existsSync(path), path).toBe(false);
    for (const path of kept) expect(existsSync(path), path).toBe(true);
  });

  it('looks into subdirectories only when asked (the fs blob store writes beside its target)', async () => {
    const dir = await tempDir();
    const dead = await deadPid();
    await mkdir(join(dir, 'bases', 'java', '1.0.0'), { recursive: true });
    const deep = await file(join(dir, 'bases', 'java', '1.0.0', `~tmp-${dead}-dddddddddddddddd`), 10);
    const meta = await file(join(dir, 'bases', 'java', '1.0.0', `~tmp-${dead}-dddddddddddddddd~meta`), 3);
    expect(await sweepTempFiles([{ dir, prefixes: ['~tmp-'] }], { maxAgeMs: DAY })).toEqual({
      files: 0,
      bytes: 0,
    });
    expect(await sweepTempFiles([{ dir, prefixes: ['~tmp-'], recursive: true }], { maxAgeMs: DAY })).toEqual({
      files: 2,
      bytes: 13,
    });
    expect(existsSync(deep) || existsSync(meta)).toBe(false);
  });
});

describe('localDiskError', () => {
  it('turns ENOSPC into a 507 and EIO into a 503, and leaves other errors alone', () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    expect(localDiskError('spooling', enospc)).toMatchObject({ status: 507, code: 'INSUFFICIENT_STORAGE' });
    const eio = Object.assign(new Error('io'), { code: 'EIO' });
    expect(localDiskError('spooling', eio)).toMatchObject({ status: 503, code: 'STORAGE_UNAVAILABLE' });
    const other = Object.assign(new Error('perm'), { code: 'EACCES' });
    expect(localDiskError('spooling', other)).toBe(other);
  });
});

describe('Services.startTempSweep', () => {
  it('removes what a crash left in the spool and blob directories at start, and reports it', async () => {
    const dataDir = await tempDir();
    const dead = await deadPid();
    await mkdir(join(dataDir, 'tmp'), { recursive: true });
    await mkdir(join(dataDir, 'blobs', 'bases', 'java', '9.9.9'), { recursive: true });
    const stale = [
      await file(join(dataDir, 'tmp', `upload-${dead}-aaaaaaaaaaaaaaaa`), 4096),
      await file(join(dataDir, 'tmp', `base-${dead}-bbbbbbbbbbbbbbbb`), 1024),
      await file(join(dataDir, 'blobs', 'bases', 'java', '9.9.9', `~tmp-${dead}-cccccccccccccccc`), 512),
    ];
    const config = loadConfig({ AGENTPACK_DATA_DIR: dataDir }, dataDir);
    const services: Services = await openServices(config);
    cleanup.push(() => services.close());
    const swept = await new Promise<SweepResult>((resolve) => services.startTempSweep(resolve));
    expect(swept).toEqual({ files: 3, bytes: 4096 + 1024 + 512 });
    for (const path of stale) expect(existsSync(path), path).toBe(false);
    // The store's own files are untouched.
    expect((await readFile(join(dataDir, 'agentpack.db'))).length).toBeGreaterThan(0);
  });
});
