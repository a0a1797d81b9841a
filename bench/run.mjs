// `npm run bench` (builds first, runs with --expose-gc). Not a test: it prints medians and ratios
// measured in the same run, with the target beside each, and writes bench/.work/results.json.
//
//   node --expose-gc bench/run.mjs [SECTION ...]     e.g. `npm run bench -- per-org memory`
//   BENCH_QUICK=1   skip the 500 MB base, fewer samples     BENCH_VERBOSE=1   print every sample
//
// A section is an async function (ctx) -> { id, title, rows, notes, raw } (see lib.mjs
// printSection); add one to `sections` below. bench/credentials.mjs is optional and loaded only
// when present.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { benchPeakMemory, benchPerOrg, benchWholeBundle } from './archive.mjs';
import { cachedBase, signingKeyFile } from './inputs.mjs';
import { benchDir, distDir, ensureDir, printSection, quick, workDir } from './lib.mjs';

const BASE = { entries: 30_000, sizeMb: 70, seed: 1 };
/** ~500 MB bases for peak memory: as many entries as the 70 MB one (size alone grows), and 100,000. */
const LARGE_BASES = [
  { entries: 30_000, sizeMb: 500, seed: 3 },
  { entries: 100_000, sizeMb: 500, seed: 2 },
];

const sections = [
  { id: 'bundle', run: (ctx) => benchWholeBundle(ctx) },
  { id: 'per-org', run: (ctx) => benchPerOrg(ctx) },
  {
    id: 'per-org-large',
    skip: (ctx) => (ctx.largeBase ? null : 'needs the 500 MB base (BENCH_QUICK=1)'),
    run: (ctx) =>
      benchPerOrg(ctx, {
        base: ctx.largeBase,
        label: `(${Math.round(ctx.largeBase.bytes / 2 ** 20)} MB, ${ctx.largeBase.entries} entries)`,
      }),
  },
  { id: 'memory', run: (ctx) => benchPeakMemory(ctx) },
  { id: 'service', run: async (ctx) => (await import('./service.mjs')).benchService(ctx) },
  {
    id: 'credentials',
    skip: () =>
      existsSync(join(benchDir, 'credentials.mjs')) ? null : 'bench/credentials.mjs not present yet',
    run: async (ctx) => {
      const { benchCredentials } = await import('./credentials.mjs');
      return normalizeSection('credentials', 'Credentials', await benchCredentials(ctx));
    },
  },
];

/** Accepts a full section, or rows alone, or a plain object of figures (printed as JSON). */
function normalizeSection(id, title, result) {
  if (Array.isArray(result)) return { id, title, rows: result };
  if (result !== null && typeof result === 'object') return { id, title, ...result };
  return { id, title, raw: result };
}

const log = (text) => process.stderr.write(`${text}\n`);

async function main() {
  if (!existsSync(join(distDir, 'archive', 'bundle.js'))) {
    throw new Error(
      'dist/ is missing: run `npm run bench` (it builds first) or `npx tsc -p tsconfig.build.json`',
    );
  }
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((id) => !sections.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(
      `unknown section ${unknown.join(', ')}; expected one of ${sections.map((s) => s.id).join(', ')}`,
    );
  const chosen = sections.filter((s) => wanted.length === 0 || wanted.includes(s.id));
  if (globalThis.gc === undefined)
    log('note: run with --expose-gc (npm run bench does) so samples start after a GC');

  const machine = {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    platform: process.platform,
    loadavgStart: loadavg(),
  };
  log(
    `agentpack bench: node ${machine.node}, ${machine.cpus} CPUs, load ${machine.loadavgStart.map((l) => l.toFixed(2)).join(' ')}${quick ? ', QUICK' : ''}`,
  );
  const ctx = await context(chosen);
  const results = [];
  for (const section of chosen) {
    const skipped = section.skip?.(ctx);
    if (skipped) {
      log(`\n[${section.id}] skipped: ${skipped}`);
      results.push({ id: section.id, skipped });
      continue;
    }
    log(`\n[${section.id}] running`);
    const started = Date.now();
    try {
      const result = await section.run(ctx);
      result.seconds = (Date.now() - started) / 1000;
      printSection(result);
      results.push(result);
    } catch (error) {
      log(`[${section.id}] failed: ${error.stack ?? error}`);
      results.push({ id: section.id, error: String(error.message ?? error) });
      process.exitCode = 1;
    }
  }
  machine.loadavgEnd = loadavg();
  const file = join(workDir, 'results.json');
  const params = {
    base: BASE,
    largeBases: ctx.largeBases.length > 0 ? LARGE_BASES : [],
    runs: ctx.runs,
    orgs: ctx.orgs,
    quick,
  };
  await writeFile(
    file,
    `${JSON.stringify({ finishedAt: new Date().toISOString(), machine, params, sections: results }, null, 2)}\n`,
  );
  log(`\nload ${machine.loadavgEnd.map((l) => l.toFixed(2)).join(' ')} at the end; results: ${file}`);
}

/** What the sections share: the bases (generated once, cached), the java kind, a signing key. */
async function context(chosen) {
  await ensureDir(workDir);
  const needsLarge = !quick && chosen.some((s) => s.id === 'memory' || s.id === 'per-org-large');
  const base = await cachedBase(BASE, log);
  const largeBases = [];
  for (const params of needsLarge ? LARGE_BASES : []) largeBases.push(await cachedBase(params, log));
  const { loadKind } = await import('../dist/render/kinds.js');
  const { generateSigningKey } = await import('../dist/bundles/signing-keys.js');
  const signer = generateSigningKey();
  return {
    workDir,
    base,
    largeBases,
    /** The harder large base (most entries): the per-org cost grows with the central directory. */
    largeBase: largeBases.at(-1) ?? null,
    kind: await loadKind('java'),
    signer,
    signingKeyFile: await signingKeyFile(signer, workDir),
    runs: quick ? 3 : 7,
    orgs: quick ? 50 : 200,
    verbose: process.env.BENCH_VERBOSE === '1',
    log,
  };
}

main().catch((error) => {
  log(`bench: ${error.message}`);
  process.exitCode = 1;
});
