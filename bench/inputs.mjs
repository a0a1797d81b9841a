// What the benchmark runs on: generated base JARs (cached in bench/.work by their parameters and
// the generator's source), organizations' config values, and a throwaway signing key.

import { createHash, randomInt } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ensureDir, mib, rootDir, workDir } from './lib.mjs';

const generatorFile = join(rootDir, 'fixtures', 'generate-large-jar.mjs');

/**
 * The path of a generated JAR with these parameters, generating it on first use. The cache key
 * includes a hash of the generator, so a changed generator gives a fresh base; older variants
 * with the same parameters are removed (a 500 MB base is worth keeping only once).
 */
export async function cachedBase({ entries, sizeMb, seed = 1 }, log = () => {}) {
  await ensureDir(workDir);
  const generatorHash = createHash('sha256')
    .update(await readFile(generatorFile))
    .digest('hex')
    .slice(0, 8);
  const stem = `base-${entries}e-${sizeMb}mb-s${seed}`;
  const path = join(workDir, `${stem}-${generatorHash}.jar`);
  const found = await stat(path).catch(() => null);
  if (found !== null) return { path, bytes: found.size, entries, generated: false };
  for (const name of await readdir(workDir)) {
    if (name.startsWith(`${stem}-`) && name.endsWith('.jar')) await rm(join(workDir, name), { force: true });
  }
  log(`generating ${stem} (${sizeMb} MB, ${entries} entries); cached in bench/.work for later runs`);
  const { generateLargeJar } = await import('../fixtures/generate-large-jar.mjs');
  const started = Date.now();
  const result = await generateLargeJar({ out: path, entries, sizeMb, seed });
  log(`  ${mib(result.bytes).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { path, bytes: result.bytes, entries: result.entries, generated: true };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(length) {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(62)];
  return out;
}

function checksum(text) {
  let rest = crc32(text);
  let out = '';
  do {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(6, '0');
}

/** A key in the shared format: `<prefix>_<12 base62>_<24 base62><6 base62 CRC32>`. */
export function fakeKey(prefix) {
  const body = `${prefix}_${base62(12)}_${base62(24)}`;
  return `${body}${checksum(body)}`;
}

/** Distinct, realistic `java` kind values for organization `i` (the kind's required variables). */
export function orgValues(i) {
  return {
    'api.url': 'https://apm.example.com/',
    'api.api_key': fakeKey('apo'),
    'api.service_key': fakeKey('aps'),
    'api.user_name': `agent-org-${String(i).padStart(5, '0')}`,
  };
}

/** Writes a fresh Ed25519 signing key as PKCS#8 PEM for `agentpack pack --signing-key`. */
export async function signingKeyFile(key, dir) {
  const { exportSigningKey } = await import('../dist/bundles/signing-keys.js');
  const path = join(await ensureDir(dir), 'signing-key.pem');
  await writeFile(path, exportSigningKey(key).privateKeyPem, { mode: 0o600 });
  return path;
}
