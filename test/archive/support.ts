/**
 * Shared by the archive tests: an independent central-directory reader (so byte-identity checks do
 * not trust the code under test), the JDK's JarFile/JarInputStream run on a bundle, and the
 * fixture agent's config values.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKind } from '../../src/render/kinds.js';
import { renderConfig } from '../../src/render/render.js';
import { API_KEY, SERVICE_KEY } from '../fixtures/keys.js';
import { runTool } from '../helpers/java.js';

export const fixtureJar = fileURLToPath(
  new URL('../../fixtures/java-agent/agentpack-java-agent.jar', import.meta.url),
);
export const fixtureZip = fileURLToPath(
  new URL('../../fixtures/node-agent/agentpack-node-agent.zip', import.meta.url),
);

export const configValues = {
  'api.url': 'https://agentpack.example/api',
  'api.api_key': API_KEY,
  'api.service_key': SERVICE_KEY,
  'api.user_name': 'agent-org1',
};

/** The java kind's rendered config for the fixture keys: what a bundle embeds. */
export async function javaConfig(values: Record<string, string> = configValues): Promise<Buffer> {
  return renderConfig(await loadKind('java'), values);
}

export interface RawRecord {
  readonly name: string;
  /** The whole central record: fixed part, name, extra, comment. */
  readonly bytes: Buffer;
  readonly localOffset: number;
}

export interface RawDirectory {
  readonly cdOffset: number;
  readonly cdSize: number;
  readonly count: number;
  readonly zip64: boolean;
  readonly comment: Buffer;
  readonly records: RawRecord[];
}

/** Reads the end records and the central directory of a well-formed archive, nothing more. */
export function readDirectory(zip: Buffer): RawDirectory {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('expected an end-of-central-directory record');
  const comment = zip.subarray(eocd + 22, eocd + 22 + zip.readUInt16LE(eocd + 20));
  let count = zip.readUInt16LE(eocd + 10);
  let cdSize = zip.readUInt32LE(eocd + 12);
  let cdOffset = zip.readUInt32LE(eocd + 16);
  const zip64 = eocd >= 20 && zip.readUInt32LE(eocd - 20) === 0x07064b50;
  if (zip64) {
    const record = Number(zip.readBigUInt64LE(eocd - 20 + 8));
    if (zip.readUInt32LE(record) !== 0x06064b50) throw new Error('expected a zip64 end record');
    count = Number(zip.readBigUInt64LE(record + 32));
    cdSize = Number(zip.readBigUInt64LE(record + 40));
    cdOffset = Number(zip.readBigUInt64LE(record + 48));
  }
  const records: RawRecord[] = [];
  let pos = cdOffset;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(pos) !== 0x02014b50) throw new Error(`expected central record ${i} at ${pos}`);
    const nameLength = zip.readUInt16LE(pos + 28);
    const extraLength = zip.readUInt16LE(pos + 30);
    const length = 46 + nameLength + extraLength + zip.readUInt16LE(pos + 32);
    let localOffset = zip.readUInt32LE(pos + 42);
    if (localOffset === 0xffffffff) {
      // The offset is the last 8-byte value of the zip64 extra (sizes are never saturated here).
      const extra = zip.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength);
      localOffset = Number(extra.readBigUInt64LE(extra.readUInt16LE(2) - 4));
    }
    records.push({
      name: zip.toString('utf8', pos + 46, pos + 46 + nameLength),
      bytes: zip.subarray(pos, pos + length),
      localOffset,
    });
    pos += length;
  }
  if (pos !== cdOffset + cdSize) throw new Error('central directory size does not match its records');
  return { cdOffset, cdSize, count, zip64, comment, records };
}

export interface JavaView {
  /** JarFile: size(), every name enumerated, the target's content, the manifest's Premain-Class. */
  readonly jarFileSize: number;
  readonly jarFileNames: string[];
  readonly jarFileConfig: Buffer | null;
  readonly jarFilePremain: string | null;
  /** JarInputStream (local headers only): every entry it returns, the target's content. */
  readonly streamNames: string[];
  readonly streamConfig: Buffer | null;
  readonly streamPremain: string | null;
}

const CHECK_JAR_JAVA = `
import java.io.FileInputStream;
import java.util.Base64;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;

public class CheckJar {
  static String b64(byte[] data) { return Base64.getEncoder().encodeToString(data); }
  static String premain(Manifest m) {
    String v = m == null ? null : m.getMainAttributes().getValue("Premain-Class");
    return v == null ? "-" : v;
  }
  public static void main(String[] args) throws Exception {
    String target = args[1];
    try (JarFile jar = new JarFile(args[0], true)) {
      System.out.println("jarfile.size " + jar.size());
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
        System.out.println("jarfile.name " + b64(e.nextElement().getName().getBytes("UTF-8")));
      }
      JarEntry config = jar.getJarEntry(target);
      if (config != null) System.out.println("jarfile.config " + b64(jar.getInputStream(config).readAllBytes()));
      System.out.println("jarfile.premain " + premain(jar.getManifest()));
    }
    try (JarInputStream in = new JarInputStream(new FileInputStream(args[0]), true)) {
      for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
        byte[] data = in.readAllBytes();
        System.out.println("stream.name " + b64(e.getName().getBytes("UTF-8")));
        if (e.getName().equals(target)) System.out.println("stream.config " + b64(data));
      }
      System.out.println("stream.premain " + premain(in.getManifest()));
    }
  }
}
`;

/** Opens `jar` with the JDK's JarFile and JarInputStream (single-file source launch). */
export async function javaView(jar: string, target: string): Promise<JavaView> {
  const dir = await mkdtemp(join(tmpdir(), 'agentpack-checkjar-'));
  try {
    await writeFile(join(dir, 'CheckJar.java'), CHECK_JAR_JAVA);
    const result = await runTool('java', [join(dir, 'CheckJar.java'), jar, target], { timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`CheckJar exited ${result.code}: ${result.stderr.trim()}`);
    const lines = result.stdout.split('\n').filter((line) => line !== '');
    const values = (key: string) =>
      lines.filter((line) => line.startsWith(`${key} `)).map((line) => line.slice(key.length + 1));
    const decode = (value: string) => Buffer.from(value, 'base64');
    const one = (key: string) => values(key)[0] ?? null;
    const config = (key: string) => {
      const value = one(key);
      return value === null ? null : decode(value);
    };
    const premain = (key: string) => {
      const value = one(key);
      return value === null || value === '-' ? null : value;
    };
    return {
      jarFileSize: Number(one('jarfile.size')),
      jarFileNames: values('jarfile.name').map((v) => decode(v).toString('utf8')),
      jarFileConfig: config('jarfile.config'),
      jarFilePremain: premain('jarfile.premain'),
      streamNames: values('stream.name').map((v) => decode(v).toString('utf8')),
      streamConfig: config('stream.config'),
      streamPremain: premain('stream.premain'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `zipinfo -1`: the entry names as Info-ZIP lists them. */
export async function zipinfoNames(zip: string): Promise<string[]> {
  const result = await runTool('zipinfo', ['-1', zip]);
  if (result.code !== 0) throw new Error(`zipinfo exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/** The peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * Runs `work` while sampling the resident set size every few milliseconds; returns how far it
 * rose above where it started. Sampling only sees what happens between synchronous steps.
 */
export async function rssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const start = process.memoryUsage().rss;
  let highest = start;
  const timer = setInterval(() => {
    highest = Math.max(highest, process.memoryUsage().rss);
  }, 2);
  try {
    const result = await work();
    highest = Math.max(highest, process.memoryUsage().rss);
    return { result, growth: highest - start };
  } finally {
    clearInterval(timer);
  }
}

export const MiB = 1024 * 1024;
