// Issue 2's benchmark sections: building a bundle from a base archive, against the tools a user
// would otherwise reach for; the marginal per-organization cost; peak memory on a large base.
// Every section takes the shared context from run.mjs and returns { id, title, rows, notes, raw }.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { orgValues } from './inputs.mjs';
import {
  ensureDir,
  formatRatio,
  interleaved,
  median,
  mib,
  nowMs,
  peakRssOfNode,
  quick,
  rootDir,
  runProcess,
  stats,
  which,
} from './lib.mjs';
import { naiveRebuild } from './rebuild.mjs';

const dist = (path) => import(new URL(`../dist/${path}`, import.meta.url).href);

const PYTHON_APPEND = `
import shutil, sys, zipfile
base, out, config, name = sys.argv[1:5]
shutil.copyfile(base, out)
with open(config, 'rb') as f:
    data = f.read()
with zipfile.ZipFile(out, 'a') as z:
    z.writestr(name, data)
`;

/** The real interpreter behind `python3` (pyenv and friends put a shell-script shim first). */
function pythonExecutable() {
  if (which('python3') === null) return null;
  const found = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

function packArgs({ base, out, kind, values, signingKeyFile }) {
  const sets = Object.entries(values).flatMap(([name, value]) => ['--set', `${name}=${value}`]);
  return [
    join(rootDir, 'bin', 'agentpack.js'),
    'pack',
    '--base',
    base,
    '--kind',
    kind,
    '--out',
    out,
    ...sets,
    '--signing-key',
    signingKeyFile,
  ];
}

const PACK_WITHOUT_EXTRA_CA = 'info: agentpack pack (whole process), NODE_EXTRA_CA_CERTS unset';

async function removeBundle(out) {
  await Promise.all([out, `${out}.sha256`, `${out}.sig`].map((path) => rm(path, { force: true })));
}

/**
 * Adding one config file to the ~70 MB base: cp, the peers (Info-ZIP zip, jar uf, Python zipfile
 * append, a naive yauzl->archiver rebuild), agentpack in-process (a) and as a whole process.
 */
export async function benchWholeBundle(ctx) {
  const { base, kind, signer, signingKeyFile, log } = ctx;
  const { writeBundle } = await dist('archive/bundle.js');
  const { prepareBase } = await dist('archive/prepared.js');
  const { renderConfig } = await dist('render/render.js');
  const { buildStatement, signStatement } = await dist('bundles/signature.js');

  const outDir = await ensureDir(join(ctx.workDir, 'out'));
  const peerDir = await ensureDir(join(ctx.workDir, 'peer'));
  const configName = kind.target;
  const configFile = join(peerDir, configName);
  await writeFile(configFile, renderConfig(kind, orgValues(0)));
  const out = (name) => join(outDir, `${name}.jar`);
  const cp = (target) => runProcess('cp', [base.path, target]);
  let org = 1;

  const python = pythonExecutable();
  const baseBytes = await readFile(base.path);
  const extraCaCerts =
    process.env.NODE_EXTRA_CA_CERTS !== undefined && process.env.NODE_EXTRA_CA_CERTS !== '';
  const withoutExtraCa = { ...process.env };
  delete withoutExtraCa.NODE_EXTRA_CA_CERTS;
  const missing = [];
  const cases = [
    { name: 'cp', short: 'cp', group: 'baseline', run: () => cp(out('cp')) },
    which('zip') && {
      name: 'cp + zip -q (Info-ZIP)',
      short: 'zip',
      group: 'peer',
      run: async () => {
        await cp(out('zip'));
        await runProcess('zip', ['-q', out('zip'), configName], { cwd: peerDir });
      },
    },
    which('jar') && {
      name: 'cp + jar uf',
      short: 'jar uf',
      group: 'peer',
      run: async () => {
        await cp(out('jar'));
        await runProcess('jar', ['uf', out('jar'), configName], { cwd: peerDir });
      },
    },
    python && {
      name: 'python3 zipfile append (1 process)',
      short: 'python',
      group: 'peer',
      run: () => runProcess(python, ['-c', PYTHON_APPEND, base.path, out('python'), configFile, configName]),
    },
    {
      name: 'yauzl -> archiver rebuild (in-process)',
      short: 'rebuild',
      group: 'peer',
      runs: quick ? 1 : 3,
      warmup: 0,
      run: () =>
        naiveRebuild(
          base.path,
          { path: configName, data: renderConfig(kind, orgValues(org++)) },
          out('rebuild'),
        ),
    },
    {
      name: '(a) agentpack writeBundle + render + sign, in-process',
      group: 'agentpack',
      target: 1.5,
      run: async () => {
        const target = out('agentpack-a');
        const config = renderConfig(kind, orgValues(org++));
        const written = await writeBundle(base.path, { path: configName, data: config }, target);
        const statement = buildStatement({
          sha256Hex: written.sha256,
          fileName: basename(target),
          orgId: `org-${org}`,
          kind: kind.kind,
          version: '9.4.2',
          issuedAt: new Date(),
          keyId: signer.keyId,
        });
        signStatement(statement, signer);
      },
    },
    {
      name: 'agentpack pack (whole process)',
      group: 'agentpack',
      run: () =>
        runProcess(
          process.execPath,
          packArgs({
            base: base.path,
            out: out('agentpack-pack'),
            kind: kind.kind,
            values: orgValues(org++),
            signingKeyFile,
          }),
        ),
    },
    {
      name: 'info: sha256 of the base already in memory (the digest alone)',
      group: 'info',
      run: () => {
        createHash('sha256').update(baseBytes).digest();
      },
    },
    {
      name: 'info: read + sha256 of the base, 1 MiB windows (hash floor)',
      group: 'info',
      run: () => readAndHash(base.path),
    },
    {
      name: 'info: prepareBase (read + check + hash, no write)',
      group: 'info',
      run: () => prepareBase(base.path),
    },
    { name: 'info: fs.copyFile, in-process', group: 'info', run: () => copyFile(base.path, out('copyfile')) },
    {
      name: 'info: node -e 0 (process start)',
      group: 'info',
      run: () => runProcess(process.execPath, ['-e', '0']),
    },
    {
      name: 'info: agentpack pack --help (CLI start)',
      group: 'info',
      run: () => runProcess(process.execPath, [join(rootDir, 'bin', 'agentpack.js'), 'pack', '--help']),
    },
    // With NODE_EXTRA_CA_CERTS set, Node 20 loads its whole root store plus that file at every
    // start, before any of our code runs: these rows show what the variable costs here.
    extraCaCerts && {
      name: 'info: node -e 0, NODE_EXTRA_CA_CERTS unset',
      group: 'info',
      run: () => runProcess(process.execPath, ['-e', '0'], { env: withoutExtraCa }),
    },
    extraCaCerts && {
      name: PACK_WITHOUT_EXTRA_CA,
      group: 'info',
      run: () =>
        runProcess(
          process.execPath,
          packArgs({
            base: base.path,
            out: out('agentpack-pack-noca'),
            kind: kind.kind,
            values: orgValues(org++),
            signingKeyFile,
          }),
          { env: withoutExtraCa },
        ),
    },
  ];
  for (const [tool, present] of [
    ['zip', which('zip')],
    ['jar', which('jar')],
    ['python3', python],
  ]) {
    if (!present) missing.push(tool);
  }
  const active = cases.filter(Boolean).map((c) => ({ ...c, before: removeOutputs(outDir) }));

  log(
    `  ${active.length} cases, ${ctx.runs} runs + 1 warm-up each, interleaved (the rebuild: ${quick ? 1 : 3} runs)`,
  );
  const measured = await interleaved(active, {
    runs: ctx.runs,
    warmup: 1,
    onSample: (name, ms, timed) =>
      ctx.verbose && log(`    ${timed ? '' : '(warm-up) '}${name}: ${ms.toFixed(1)} ms`),
  });

  const cpMedian = measured.get('cp').median;
  const peers = active
    .filter((c) => c.group === 'peer')
    .map((c) => ({ name: c.name, short: c.short, median: measured.get(c.name).median }));
  const fastestPeer = peers.reduce((best, p) => (best === null || p.median < best.median ? p : best), null);
  const rows = active.map((c) => {
    const s = measured.get(c.name);
    const row = {
      name: c.name,
      value: s.median,
      unit: 'ms',
      spread: [s.min, s.max],
      runs: s.runs,
      ratio: s.median / cpMedian,
      ratioTo: 'cp',
    };
    if (c.target !== undefined) {
      row.target = `<= ${c.target.toFixed(2)}x cp`;
      row.met = row.ratio <= c.target;
    }
    if (c.name === 'agentpack pack (whole process)' && fastestPeer !== null) {
      const vsPeer = s.median / fastestPeer.median;
      row.target = `<= fastest peer: ${formatRatio(vsPeer)} of ${fastestPeer.short}`;
      row.met = vsPeer <= 1;
      row.vsFastestPeer = vsPeer;
    }
    return row;
  });
  ctx.cpMedian = cpMedian;
  ctx.wholeBundle = measured;
  const notes = [
    `base: ${basename(base.path)}, ${mib(base.bytes).toFixed(1)} MiB, ${base.entries} entries, in page cache; each sample starts after sync + GC`,
    `fastest peer measured: ${fastestPeer?.name ?? 'none'}${missing.length > 0 ? `; missing tools, cases skipped: ${missing.join(', ')}` : ''}`,
    'info rows attribute time (reading/hashing without writing, an in-process copy, process and CLI start); they have no target',
  ];
  const noCa = measured.get(PACK_WITHOUT_EXTRA_CA);
  if (noCa !== undefined && fastestPeer !== null) {
    notes.push(
      `NODE_EXTRA_CA_CERTS is set here: every Node process parses the root store and that file before running any code (compare the two node -e 0 rows); with it unset, agentpack pack takes ${formatRatio(noCa.median / fastestPeer.median)} of ${fastestPeer.short}`,
    );
  }
  return {
    id: 'bundle',
    title: `Whole bundle to a file, ~${Math.round(mib(base.bytes))} MB base`,
    rows,
    notes,
    raw: Object.fromEntries(measured),
  };
}

/** Before each sample: remove every output of the previous samples (jar, .sha256, .sig). */
function removeOutputs(outDir) {
  return async () => {
    for (const name of await readdir(outDir)) await rm(join(outDir, name), { force: true });
  };
}

/** What any writer that hashes the whole bundle pays at least: read the base once, SHA-256 it. */
async function readAndHash(path) {
  const fh = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

/**
 * (b) The marginal cost of one more organization with the base already loaded: render its
 * config, build the tail and finish the digest from the saved prefix hash, build and sign the
 * statement. Timed per organization, each with distinct values.
 */
export async function benchPerOrg(ctx, { base = ctx.base, orgs = ctx.orgs, label = '' } = {}) {
  const { kind, signer } = ctx;
  const { prepareBase, spliceBundle } = await dist('archive/prepared.js');
  const { renderConfig } = await dist('render/render.js');
  const { buildStatement, signStatement } = await dist('bundles/signature.js');

  const preparedStart = nowMs();
  const prepared = await prepareBase(base.path);
  const prepareMs = nowMs() - preparedStart;
  const valueSets = Array.from({ length: orgs + 20 }, (_, i) => orgValues(i));
  const total = [];
  const render = [];
  const splice = [];
  const sign = [];
  const floor = [];
  const cd = prepared.structure.centralDirectory;
  let tailBytes = 0;
  globalThis.gc?.();
  for (const [i, values] of valueSets.entries()) {
    const t0 = nowMs();
    const data = renderConfig(kind, values);
    const t1 = nowMs();
    const bundle = spliceBundle(prepared, { path: kind.target, data });
    const t2 = nowMs();
    const statement = buildStatement({
      sha256Hex: bundle.sha256,
      fileName: 'agent.jar',
      orgId: `org-${i}`,
      kind: kind.kind,
      version: '9.4.2',
      issuedAt: new Date(),
      keyId: signer.keyId,
    });
    signStatement(statement, signer);
    const t3 = nowMs();
    createHash('sha256').update(cd).digest('hex');
    const t4 = nowMs();
    tailBytes = bundle.tail.bytes.length;
    if (i < 20) continue; // warm-up: JIT, template compile
    total.push(t3 - t0);
    render.push(t1 - t0);
    splice.push(t2 - t1);
    sign.push(t3 - t2);
    floor.push(t4 - t3);
  }
  const s = stats(total);
  const floorMedian = median(floor);
  const suffix = label ? ` ${label}` : '';
  const part = (name, samples) => {
    const p = stats(samples);
    return { name: `  ${name}`, value: p.median, unit: 'ms', spread: [p.min, p.max], runs: p.runs };
  };
  const rows = [
    {
      name: `(b) per org: render + splice + sha256 + sign${suffix}`,
      value: s.median,
      unit: 'ms',
      spread: [s.min, s.max],
      runs: s.runs,
      ratio: s.median / floorMedian,
      ratioTo: 'floor',
      target: '<= 5 ms',
      met: s.median <= 5,
    },
    part('render (handlebars, escaping)', render),
    part('splice (tail + finish sha256 from prefix state)', splice),
    part('statement + Ed25519 signature', sign),
    {
      ...part('floor: sha256 of the central directory alone', floor),
      name: 'floor: sha256 of the central directory alone',
    },
  ];
  const notes = [
    `base: ${basename(base.path)} (${base.entries} entries); prepareBase once: ${prepareMs.toFixed(0)} ms; tail ${(tailBytes / 1024).toFixed(0)} KiB per bundle`,
    `p95 ${s.p95.toFixed(2)} ms over ${orgs} organizations with distinct keys (after 20 warm-up organizations)`,
    'floor: hashing the central directory, which every bundle must re-hash after its new entry, timed in the same loop',
    ...(ctx.cpMedian && !label
      ? [`(b) is ${formatRatio(s.median / ctx.cpMedian)} of the cp median of the section above`]
      : []),
  ];
  return {
    id: label ? 'per-org-large' : 'per-org',
    title: `Marginal cost per organization, base loaded${suffix}`,
    rows,
    notes,
    raw: {
      total: s,
      render: stats(render),
      splice: stats(splice),
      sign: stats(sign),
      floor: stats(floor),
      prepareMs,
      tailBytes,
    },
  };
}

/** Peak RSS of `agentpack pack` as a child process, on the ~70 MB base and the ~500 MB ones. */
export async function benchPeakMemory(ctx) {
  const { kind, signingKeyFile, log } = ctx;
  const outDir = await ensureDir(join(ctx.workDir, 'out'));
  const out = join(outDir, 'memory.jar');
  const rows = [];
  const raw = {};
  const node = await peakRssOfNode(['-e', '0']);
  rows.push({ name: 'node -e 0 (process floor)', value: node.peakMiB, unit: 'MiB', runs: 1 });
  raw.node = node;
  const targetMiB = 150e6 / 2 ** 20;
  const bases = [ctx.base, ...ctx.largeBases];
  for (const base of bases) {
    const runs = base === ctx.base ? 1 : quick ? 1 : 3;
    const packs = [];
    const cps = [];
    for (let i = 0; i < runs; i++) {
      await removeBundle(out);
      spawnSync('sync');
      packs.push(
        await peakRssOfNode(
          packArgs({ base: base.path, out, kind: kind.kind, values: orgValues(i), signingKeyFile }),
        ),
      );
      await rm(out, { force: true });
      spawnSync('sync');
      cps.push((await runProcess('cp', [base.path, out])).ms);
    }
    await removeBundle(out);
    const peak = Math.max(...packs.map((p) => p.peakMiB));
    const large = base !== ctx.base;
    const size = `${Math.round(mib(base.bytes))} MB, ${base.entries} entries`;
    rows.push({
      name: `agentpack pack peak RSS, ${size}`,
      value: peak,
      unit: 'MiB',
      runs,
      ...(large ? { target: '< 150 MB (143.1 MiB)', met: peak < targetMiB } : {}),
    });
    const wall = stats(packs.map((p) => p.ms));
    const cp = stats(cps);
    rows.push({
      name: `  wall time of that pack (vs cp of the same base)`,
      value: wall.median,
      unit: 'ms',
      spread: [wall.min, wall.max],
      runs,
      ratio: wall.median / cp.median,
      ratioTo: 'cp',
    });
    raw[basename(base.path)] = {
      base: { path: base.path, bytes: base.bytes, entries: base.entries },
      packs,
      cpMs: cps,
    };
    log(`  ${size}: peak ${peak.toFixed(1)} MiB`);
  }
  const notes = [
    `measured with ${node.method}; the 500 MB cases ${ctx.largeBases.length > 0 ? 'ran' : 'were skipped (BENCH_QUICK=1)'}`,
    'a 500 MB base with as many entries as the 70 MB one shows growth with size alone; 100,000 entries adds growth with entry count',
  ];
  return { id: 'memory', title: 'Peak memory of agentpack pack (child process)', rows, notes, raw };
}
