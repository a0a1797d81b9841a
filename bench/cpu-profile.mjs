// Reads a V8 .cpuprofile (`node --cpu-prof`) and summarizes where the time went, optionally only
// between two instants: self time and inclusive time per function, as shares of the window.
// Used by bench/service.mjs (BENCH_CPU_PROF=1); runs alone too:
//
//   node bench/cpu-profile.mjs FILE.cpuprofile [TOP]

import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { rootDir } from './lib.mjs';

/**
 * `windows`: [{ fromUs, toUs }] on the monotonic clock in microseconds, the clock V8 stamps
 * samples with on Linux (process.hrtime.bigint() / 1000n in any process), so windows taken by the
 * bench process select the samples the server took while the load ran. Without it: everything.
 */
export async function summarizeProfile(file, { windows, top = 12 } = {}) {
  const profile = JSON.parse(await readFile(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const timeById = new Map();
  let at = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows !== undefined && !windows.some((w) => at >= w.fromUs && at <= w.toUs)) continue;
    timeById.set(profile.samples[i], (timeById.get(profile.samples[i]) ?? 0) + delta);
    total += delta;
  }

  const self = new Map();
  const inclusive = new Map();
  for (const [id, us] of timeById) {
    const name = frameName(byId.get(id));
    self.set(name, (self.get(name) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = frameName(byId.get(cur));
      if (seen.has(frame)) continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + us);
    }
  }
  const ranked = (map, skip) =>
    [...map]
      .filter(([name]) => !skip.has(name.split(' ')[0]))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, share: total === 0 ? 0 : us / total }));
  // Frames every sample sits under (event loop, microtask queue): no information in a top list.
  const structural = new Set(['(root)', '(program)', 'processTicksAndRejections', 'runMicrotasks']);
  return {
    file,
    windowMs: total / 1000,
    idleShare: total === 0 ? 0 : (self.get('(idle)') ?? 0) / total,
    self: ranked(self, new Set(['(idle)'])),
    inclusive: ranked(inclusive, new Set([...structural, '(idle)'])),
  };
}

/** `name file:line`, with node_modules and the project root shortened. */
function frameName(node) {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (url === '') return name;
  const where = url
    .replace(pathToFileURL(rootDir).href, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^node:internal\//, 'node:');
  return `${name} ${where}:${lineNumber + 1}`;
}

/** Lines for a section's notes: the top frames by self and by inclusive time. */
export function profileLines(label, summary, count = 8) {
  const fmt = (entries) =>
    entries
      .slice(0, count)
      .map((e) => `${(e.share * 100).toFixed(1)}% ${e.name}`)
      .join('; ');
  return [
    `profile (${label}, ${summary.windowMs.toFixed(0)} ms sampled, idle ${(summary.idleShare * 100).toFixed(0)}%) self: ${fmt(summary.self)}`,
    `profile (${label}) inclusive: ${fmt(summary.inclusive)}`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/cpu-profile.mjs FILE.cpuprofile [TOP]\n');
    process.exitCode = 2;
  } else {
    const summary = await summarizeProfile(file, { top: Number(top ?? 25) });
    const print = (title, entries) => {
      process.stdout.write(`-- ${title}\n`);
      for (const e of entries)
        process.stdout.write(`${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}\n`);
    };
    process.stdout.write(
      `${summary.windowMs.toFixed(0)} ms sampled, idle ${(summary.idleShare * 100).toFixed(1)}%\n`,
    );
    print('self', summary.self);
    print('inclusive', summary.inclusive);
  }
}
