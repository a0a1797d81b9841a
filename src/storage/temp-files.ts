import { randomBytes } from 'node:crypto';
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { InsufficientStorageError, UnavailableError } from '../common/errors.js';

/**
 * Temp files (upload spools, base copies, blob-store writes) are named `<prefix><pid>-<random>`
 * and registered here while in use, so a sweep can tell garbage from work in progress: a file
 * of this process that is not registered, or of a process that is gone, is left over from a
 * crash or a failure. Files of another live process are left alone unless they are old.
 */
const live = new Set<string>();

/** A fresh temp file name (not a path) that names this process. */
export function tempName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(8).toString('hex')}`;
}

/** Marks `path` as in use by this process until `releaseTemp`; call before creating the file. */
export function claimTemp(path: string): void {
  live.add(path);
}

export function releaseTemp(path: string): void {
  live.delete(path);
}

const FULL = new Set(['ENOSPC', 'EDQUOT']);
const FAILING = new Set(['EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'ESTALE']);

/**
 * A local-disk error met while spooling (no space, an I/O error) as our 507 or 503; anything
 * else is returned unchanged.
 */
export function localDiskError(op: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && FULL.has(code))
    return new InsufficientStorageError('disk', `${op}: the local disk is full (${code})`, { cause: error });
  if (code !== undefined && FAILING.has(code))
    return new UnavailableError('disk', `${op}: the local disk failed (${code})`, { cause: error });
  return error;
}

/** Where temp files live and which names are temp files there. */
export interface SweepTarget {
  readonly dir: string;
  /** Name prefixes of temp files, e.g. `upload-`; other files are never touched. */
  readonly prefixes: readonly string[];
  /** Also look in subdirectories (the fs blob store keeps a temp file beside its target). */
  readonly recursive?: boolean;
  /** Names that are temp files whatever their prefix: those of common/durable.ts (`TEMP_NAME`). */
  readonly pattern?: RegExp;
}

export interface SweepResult {
  files: number;
  bytes: number;
}

export interface SweepOptions {
  /** Files of a live process, or without a process id in their name, count as garbage after this. */
  readonly maxAgeMs: number;
  readonly now?: () => number;
  /** Whether a process id names a running process (tests replace it). */
  readonly alive?: (pid: number) => boolean;
}

/** Removes temp files no live work owns; returns how many and how many bytes. Never throws. */
export async function sweepTempFiles(
  targets: readonly SweepTarget[],
  options: SweepOptions,
): Promise<SweepResult> {
  const result: SweepResult = { files: 0, bytes: 0 };
  const now = options.now ?? Date.now;
  const alive = options.alive ?? processAlive;
  const garbage = (path: string, prefix: string, mtimeMs: number): boolean => {
    if (live.has(path)) return false;
    const pid = Number(/^(\d+)-/.exec(basename(path).slice(prefix.length))?.[1] ?? Number.NaN);
    if (pid === process.pid) return true;
    if (Number.isSafeInteger(pid) && pid > 0 && !alive(pid)) return true;
    return now() - mtimeMs > options.maxAgeMs;
  };
  const visit = async (dir: string, target: SweepTarget): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = await lstat(path).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) {
        if (target.recursive === true) await visit(path, target);
        continue;
      }
      const prefix =
        target.prefixes.find((p) => name.startsWith(p)) ?? (target.pattern?.test(name) ? '' : undefined);
      if (prefix === undefined || !st.isFile() || !garbage(path, prefix, st.mtimeMs)) continue;
      try {
        await unlink(path);
        result.files++;
        result.bytes += st.size;
      } catch {
        // Gone already, or not ours to remove: the next sweep looks again.
      }
    }
  };
  for (const target of targets) await visit(target.dir, target);
  return result;
}

/**
 * The scale-out spool directories (`<os tmp>/agentpack-<pid>`) of processes that are gone: their
 * temp files are garbage and the directory can go once empty.
 */
export async function orphanSpoolDirs(
  prefixes: readonly string[],
  alive: (pid: number) => boolean = processAlive,
): Promise<SweepTarget[]> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  return names
    .map((name) => ({ name, pid: Number(/^agentpack-(\d+)$/.exec(name)?.[1] ?? Number.NaN) }))
    .filter(({ pid }) => Number.isSafeInteger(pid) && pid !== process.pid && !alive(pid))
    .map(({ name }) => ({ dir: join(tmpdir(), name), prefixes }));
}

/** Removes `dir` if it is empty; quietly keeps it otherwise. */
export async function removeIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
