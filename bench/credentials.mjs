// Issue 3's benchmark section: how many agent credential checks per second the embedded store
// answers (valid, wrong key, malformed headers), and what minting + encrypting + storing one
// organization's keys costs. Runs alone too: `node bench/credentials.mjs` (after a build).
// With AGENTPACK_TEST_DATABASE_URL set, the same checks run on a fresh PostgreSQL database.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nowMs, printSection, quick, stats } from './lib.mjs';

const dist = (path) => import(new URL(`../dist/${path}`, import.meta.url).href);

const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');

export async function benchCredentials() {
  const runs = quick ? 3 : 7;
  const checksPerRun = quick ? 1000 : 4000;
  const orgCount = quick ? 50 : 200;
  const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-bench-cred-'));
  try {
    const rows = [];
    const embedded = await onStore({ dataDir }, { runs, checksPerRun, orgCount, label: 'SQLite' });
    rows.push(...embedded.rows);
    rows.push(await mintOnly(quick ? 200 : 1000));
    const pg = process.env.AGENTPACK_TEST_DATABASE_URL;
    if (pg)
      rows.push(
        ...(await onPostgres(pg, { runs, checksPerRun: checksPerRun / 4, orgCount: orgCount / 4 })).rows,
      );
    return {
      id: 'credentials',
      title: 'Credentials',
      rows,
      notes: [
        `agent auth: sequential authenticateAgent calls, ${checksPerRun} per run, over ${orgCount} organizations`,
        'wrong key: a well-formed API key with a valid checksum that was never minted (lookup + digest)',
        'malformed: Authorization that is not base64 (refused before any lookup)',
        'create org: mint 2 keys, AES-256-GCM seal, 1 transaction with fsync (synchronous=FULL)',
      ],
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function onStore(target, { runs, checksPerRun, orgCount, label }) {
  const { openStore } = await dist('storage/db/open.js');
  const { Credentials } = await dist('credentials/credentials.js');
  const { keyringFrom } = await dist('credentials/keyring.js');
  const { mintKey } = await dist('credentials/key-format.js');
  const store = await openStore(target);
  try {
    const credentials = new Credentials({ store, keyring: keyringFrom(randomBytes(32)) });
    const createMs = [];
    const orgs = [];
    for (let i = 0; i < orgCount; i++) {
      const start = nowMs();
      orgs.push(await credentials.createOrganization(`Bench ${i}`, { actor: 'bench' }));
      createMs.push(nowMs() - start);
    }
    const header = (org, apiKey) => ({
      authorization: b64(`${org.agent.userName}:${org.agent.serviceKey}`),
      'api-key': apiKey,
    });
    const valid = orgs.map((org) => header(org, org.apiKey));
    const wrong = orgs.map((org) => header(org, mintKey('api-key').text));
    const malformed = orgs.map(() => ({ authorization: '%%% not base64 %%%', 'api-key': 'x' }));
    const cases = { valid, wrong, malformed };
    const rates = { valid: [], wrong: [], malformed: [] };
    for (let round = 0; round < runs + 1; round++) {
      for (const [name, headers] of Object.entries(cases)) {
        const rate = await checksPerSecond(credentials, headers, checksPerRun, name === 'valid');
        if (round > 0) rates[name].push(rate);
      }
    }
    const row = (name, samples, unit = '/s') => {
      const s = stats(samples);
      return { name, value: s.median, unit, spread: [s.min, s.max], runs: s.runs };
    };
    return {
      rows: [
        row(`agent auth, valid (${label})`, rates.valid),
        row(`agent auth, wrong API key (${label})`, rates.wrong),
        row(`agent auth, malformed (${label})`, rates.malformed),
        row(`create org: mint + seal + store (${label})`, createMs, 'ms'),
      ],
    };
  } finally {
    await store.close();
  }
}

async function checksPerSecond(credentials, headers, count, expectValid) {
  const start = nowMs();
  for (let i = 0; i < count; i++) {
    const principal = await credentials.authenticateAgent(headers[i % headers.length]);
    if ((principal !== null) !== expectValid)
      throw new Error(`unexpected authentication result at check ${i}`);
  }
  return (count * 1000) / (nowMs() - start);
}

/** Mint and seal both keys of one organization, without the database. */
async function mintOnly(count) {
  const { mintVersion } = await dist('credentials/key-versions.js');
  const { keyringFrom } = await dist('credentials/keyring.js');
  const ctx = { keyring: keyringFrom(randomBytes(32)), now: Date.now };
  const samples = [];
  for (let i = 0; i < count; i++) {
    const start = nowMs();
    mintVersion(ctx, 'org', 'api-key', 1);
    mintVersion(ctx, 'org', 'agent-service-key', 1);
    samples.push(nowMs() - start);
  }
  const s = stats(samples);
  return {
    name: 'mint + seal one org (no DB)',
    value: s.median,
    unit: 'ms',
    spread: [s.min, s.max],
    runs: s.runs,
  };
}

async function onPostgres(adminUrl, options) {
  const { default: pg } = await import('pg');
  const name = `agentpack_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await onStore({ databaseUrl: url.toString() }, { ...options, label: 'PostgreSQL' });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printSection(await benchCredentials());
}
