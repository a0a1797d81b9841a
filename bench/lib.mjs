// Shared helpers for the benchmark sections: statistics, timing, child processes, tables.
// Machines running this are shared and noisy, so sections report medians and ratios of cases
// measured in the same run (interleaved round by round), never absolute thresholds.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = fileURLToPath(new URL('.', import.meta.url));
export const rootDir = fileURLToPath(new URL('..', import.meta.url));
export const workDir = join(benchDir, '.work');
export const distDir = join(rootDir, 'dist');

/** BENCH_QUICK=1 skips the slow cases (the 500 MB base) and takes fewer samples. */
export const quick = process.env.BENCH_QUICK === '1';

const MIB = 1024 * 1024;

// ---------------------------------------------------------------- statistics

export function median(values) {
  return quantile(values, 0.5);
}

/** Linear interpolation between closest ranks; `values` need not be sorted. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

export function stats(samples) {
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    p95: quantile(samples, 0.95),
    runs: samples.length,
    samples,
  };
}

// ---------------------------------------------------------------- timing

/** Milliseconds since an arbitrary origin, from the monotonic clock. */
export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function timeMs(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Flushes dirty pages (so one case's writeback does not land in the next one's time) and runs GC. */
export function settle() {
  spawnSync('sync');
  globalThis.gc?.();
}

/**
 * Runs every case once per round, `warmup` rounds untimed then `runs` timed rounds, rotating the
 * order each round so drift (other jobs, thermal, page cache) spreads over all cases alike.
 * A case may take fewer timed runs (`case.runs`), for very slow peers. `case.before` runs
 * untimed before each sample (e.g. remove the previous output). Returns name -> stats.
 */
export async function interleaved(cases, { runs, warmup = 1, onSample } = {}) {
  const samples = new Map(cases.map((c) => [c.name, []]));
  const rounds = warmup + runs;
  for (let round = 0; round < rounds; round++) {
    const shift = round % cases.length;
    const order = [...cases.slice(shift), ...cases.slice(0, shift)];
    for (const c of order) {
      const timed = round >= warmup;
      const wanted = timed ? (c.runs ?? runs) > round - warmup : (c.warmup ?? warmup) > round;
      if (!wanted) continue;
      await c.before?.();
      settle();
      const ms = await timeMs(c.run);
      if (timed) samples.get(c.name).push(ms);
      onSample?.(c.name, ms, timed);
    }
  }
  return new Map([...samples].map(([name, s]) => [name, stats(s)]));
}

// ---------------------------------------------------------------- child processes

/**
 * Spawns a process and resolves when it exits, with its output and wall time. Rejects (with the
 * command and its stderr) when it exits non-zero, unless `allowFailure`.
 */
export function runProcess(command, args, { cwd = rootDir, env = process.env, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const result = {
        code,
        signal,
        ms,
        pid: child.pid,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (code !== 0 && !allowFailure) {
        const detail = result.stderr.trim().split('\n').slice(-5).join('\n');
        reject(new Error(`${command} ${args.join(' ')}: exited with ${code ?? signal}\n${detail}`));
      } else {
        resolve(result);
      }
    });
  });
}

/** The absolute path of an executable on PATH, or null. */
export function which(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

const TIME = '/usr/bin/time';
const rssHook = join(benchDir, 'max-rss-hook.mjs');

/**
 * Runs a Node script as a child process and returns its peak resident set size in MiB and its
 * wall time. Uses GNU time (getrusage of the child) when present; otherwise a preloaded hook
 * that writes `process.resourceUsage().maxRSS` to a file when the child exits.
 */
export async function peakRssOfNode(args, options = {}) {
  if (existsSync(TIME)) {
    const result = await runProcess(TIME, ['-f', 'bench-maxrss-kb=%M', process.execPath, ...args], options);
    const kb = Number(/bench-maxrss-kb=(\d+)/.exec(result.stderr)?.[1]);
    if (!Number.isFinite(kb))
      throw new Error(`${TIME}: expected a bench-maxrss-kb line, got ${result.stderr.slice(-200)}`);
    return { peakMiB: kb / 1024, ms: result.ms, method: 'GNU time (%M)' };
  }
  const file = join(tmpdir(), `agentpack-bench-maxrss-${process.pid}-${Date.now()}`);
  try {
    const env = { ...(options.env ?? process.env), BENCH_MAXRSS_FILE: file };
    const result = await runProcess(process.execPath, ['--import', rssHook, ...args], { ...options, env });
    const kb = Number((await readFile(file, 'utf8')).trim());
    return { peakMiB: kb / 1024, ms: result.ms, method: 'process.resourceUsage().maxRSS' };
  } finally {
    await rm(file, { force: true });
  }
}

// ---------------------------------------------------------------- files

export async function ensureDir(dir) {
  await mkdir(dir, { recursive: true });
  return dir;
}

export function mib(bytes) {
  return bytes / MIB;
}

// ---------------------------------------------------------------- printing

export function formatMs(ms) {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export function formatValue(value, unit) {
  if (value === undefined || value === null || Number.isNaN(value)) return '-';
  if (unit === 'ms') return formatMs(value);
  if (unit === 'MiB') return `${value.toFixed(1)} MiB`;
  if (unit === '/s') return `${Math.round(value).toLocaleString('en-US')}/s`;
  return `${typeof value === 'number' ? Number(value.toPrecision(4)) : value}${unit ? ` ${unit}` : ''}`;
}

export function formatRatio(ratio) {
  if (ratio === undefined || ratio === null || !Number.isFinite(ratio)) return '';
  return ratio >= 100 ? `${ratio.toFixed(0)}x` : `${ratio.toFixed(2)}x`;
}

/** A fixed-width text table; `align` per column: 'l' or 'r'. */
export function formatTable(header, rows, align = []) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells) =>
    cells
      .map((cell, i) => {
        const text = String(cell ?? '');
        return align[i] === 'r' ? text.padStart(widths[i]) : text.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Prints a section result: `{ title, rows: [{ name, value, unit, spread?, runs?, ratio?, ratioTo?,
 * target?, met? }], notes? }`. A value that is not in that shape is printed as JSON, so a new
 * section can start simple.
 */
export function printSection(section, write = (text) => process.stdout.write(`${text}\n`)) {
  write('');
  write(`== ${section.title ?? section.id ?? 'section'} ==`);
  if (!Array.isArray(section.rows)) {
    write(JSON.stringify(section, null, 2));
    return;
  }
  const body = section.rows.map((row) => [
    row.name,
    formatValue(row.value, row.unit),
    row.spread ? `${formatValue(row.spread[0], row.unit)} .. ${formatValue(row.spread[1], row.unit)}` : '',
    row.runs ?? '',
    row.ratio === undefined ? '' : `${formatRatio(row.ratio)}${row.ratioTo ? ` ${row.ratioTo}` : ''}`,
    row.target ?? '',
    row.met === undefined || row.met === null ? '' : row.met ? 'met' : 'MISSED',
  ]);
  write(
    formatTable(['case', 'median', 'min .. max', 'runs', 'ratio', 'target', ''], body, [
      'l',
      'r',
      'r',
      'r',
      'l',
      'l',
      'l',
    ]),
  );
  for (const note of section.notes ?? []) write(`  * ${note}`);
}
