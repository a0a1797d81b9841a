import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLargeJar } from '../../fixtures/generate-large-jar.mjs';
import { loadConfig } from '../../src/config.js';
import { openServices } from '../../src/services.js';
import { PASSWORD, type TestUser } from '../http/harness.js';
import { agentpack, bin, cleanEnv, ensureBuilt, type LiveServer, root, startLiveServer } from './live.js';

/**
 * The admin side of issue 6, as real processes: `agent add --server` streams an archive to a
 * running service with upload progress, and `bundles rebuild` stops cleanly on Ctrl-C.
 */

const JAVA_AGENT = join(root, 'fixtures', 'java-agent', 'agentpack-java-agent.jar');
const HOSTILE = join(root, 'test', 'corpus', 'failure', "has a '..' segment in its name.zip");

let scratch: string;
/** A valid 12 MiB agent JAR: big enough for a progress bar and for an upload to be cut short. */
let bigJar: string;

beforeAll(async () => {
  await ensureBuilt();
  scratch = await mkdtemp(join(tmpdir(), 'agentpack-admin-cli-'));
  bigJar = join(scratch, 'big-agent.jar');
  await generateLargeJar({ out: bigJar, entries: 2000, sizeMb: 12 });
}, 180_000);

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

/** Passes requests through to the server, remembering each one's method, path and headers. */
async function recordingProxy(
  target: string,
): Promise<{ url: string; seen: IncomingHttpHeaders[]; server: Server }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((incoming, outgoing) => {
    seen.push(incoming.headers);
    const forward = request(
      new URL(incoming.url ?? '/', target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/**
 * Passes requests through to the server over a slow link (one chunk per 20 ms); `reached`
 * resolves once `limit` bytes went through. A proxy that stopped reading altogether could not
 * notice the client leaving; this one does, and then drops the forwarded request too.
 */
async function slowProxy(
  target: string,
  limit: number,
): Promise<{ url: string; reached: Promise<void>; server: Server }> {
  let onReached: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    onReached = resolve;
  });
  const server = createServer((incoming, outgoing) => {
    const forward = request(new URL(incoming.url ?? '/', target), {
      method: incoming.method,
      headers: incoming.headers,
    });
    forward.on('response', (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forward.on('error', () => outgoing.destroy());
    let forwarded = 0;
    incoming.on('data', (chunk: Buffer) => {
      forwarded += chunk.length;
      forward.write(chunk);
      if (forwarded >= limit) onReached();
      incoming.pause();
      setTimeout(() => incoming.resume(), 20);
    });
    incoming.on('end', () => forward.end());
    incoming.on('close', () => {
      if (!incoming.complete) forward.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reached, server };
}

async function uploadsIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith('upload-'));
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

describe('agentpack agent add --server', () => {
  let live: LiveServer;
  let sysadmin: TestUser;
  let env: Record<string, string>;

  beforeAll(async () => {
    live = await startLiveServer();
    const added = await live.t.services.credentials.addUser(
      {
        email: 'root@agentpack.test',
        orgId: live.t.acme.orgId,
        role: 'admin',
        password: PASSWORD,
        systemAdmin: true,
      },
      'test',
    );
    sysadmin = {
      userId: added.userId,
      email: 'root@agentpack.test',
      password: PASSWORD,
      serviceKey: added.serviceKey ?? '',
    };
    env = cleanEnv(
      { AGENTPACK_AUTH: `${sysadmin.email}:${sysadmin.serviceKey}`, AGENTPACK_API_KEY: live.t.acme.apiKey },
      scratch,
    );
  });

  afterAll(async () => {
    await live?.close();
  });

  async function catalogVersions(kind: string): Promise<string[]> {
    const kinds = await live.t.services.bundles.catalog.list();
    return (kinds?.find((k) => k.kind === kind)?.versions ?? []).map((v) => v.version);
  }

  it('streams the file with its Content-Length, shows upload progress, and the version is served', async () => {
    const proxy = await recordingProxy(live.url);
    try {
      const result = await agentpack(
        ['agent', 'add', JAVA_AGENT, '--kind', 'java', '--version', '2.0.0', '--server', proxy.url],
        { cwd: scratch, env },
      );
      expect(result.stderr).toMatch(/^uploading agentpack-java-agent\.jar \(\d+\.\d KiB\)\n/);
      expect(result.stderr).toMatch(/\nuploaded \d+\.\d KiB in \d+\.\d s \(.+\/s\)\n$/);
      expect(result.stdout).toMatch(
        new RegExp(
          `^added java 2\\.0\\.0 to ${proxy.url.replace(/\./g, '\\.')}: \\d+ entries, \\d+ bytes, sha256 [0-9a-f]{64}\\n$`,
        ),
      );
      expect(result.code).toBe(0);
      const upload = proxy.seen.at(-1);
      expect(upload?.['content-length']).toBe(String((await stat(JAVA_AGENT)).size));
      expect(upload?.['transfer-encoding']).toBeUndefined();
    } finally {
      proxy.server.close();
    }
    expect(await catalogVersions('java')).toContain('2.0.0');
    const bundle = await fetch(`${live.url}/api/v1/orgs/${live.t.acme.orgId}/agents/java/2.0.0/bundle`, {
      headers: {
        authorization: Buffer.from(`${sysadmin.email}:${sysadmin.serviceKey}`).toString('base64'),
        'api-key': live.t.acme.apiKey,
      },
    });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-disposition')).toContain('agentpack-java-2.0.0-acme.jar');
  });

  it('prints the JSON the local store prints', async () => {
    const result = await agentpack(
      [
        'agent',
        'add',
        JAVA_AGENT,
        '--kind',
        'java',
        '--version',
        '2.1.0',
        '--server',
        live.url,
        '--json',
        '--quiet',
      ],
      { cwd: scratch, env },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      kind: 'java',
      version: '2.1.0',
      size: (await stat(JAVA_AGENT)).size,
    });
  });

  it("answers a hostile archive with one line, the server's reason, exit 2, and stores nothing", async () => {
    const file = join(scratch, 'hostile.jar');
    await copyFile(HOSTILE, file);
    const before = await catalogVersions('java');
    const result = await agentpack(
      ['agent', 'add', file, '--kind', 'java', '--version', '6.6.6', '--server', live.url, '--quiet'],
      { cwd: scratch, env },
    );
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(/^agentpack: hostile\.jar: .*has a '\.\.' segment in its name/);
    expect(await catalogVersions('java')).toEqual(before);
  });

  it('refuses a version that is already there with the reason and exit 2', async () => {
    const result = await agentpack(
      ['agent', 'add', JAVA_AGENT, '--kind', 'java', '--version', '1.0.0', '--server', live.url, '--quiet'],
      { cwd: scratch, env },
    );
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toBe(
      'agentpack: agentpack-java-agent.jar: agent java version 1.0.0 is already in the catalog',
    );
  });

  it('exits 3 with one line when the caller is not a system admin', async () => {
    const member = cleanEnv(
      {
        AGENTPACK_AUTH: `${live.t.admin.email}:${live.t.admin.serviceKey}`,
        AGENTPACK_API_KEY: live.t.acme.apiKey,
      },
      scratch,
    );
    const result = await agentpack(
      ['agent', 'add', JAVA_AGENT, '--kind', 'java', '--version', '3.0.0', '--server', live.url, '--quiet'],
      { cwd: scratch, env: member },
    );
    expect(result.code).toBe(3);
    expect(oneLine(result.stderr)).toMatch(
      /^agentpack: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/agents\/java\/versions\/3\.0\.0: HTTP 403 /,
    );
    expect(result.stderr).not.toContain(live.t.admin.serviceKey);
    expect(await catalogVersions('java')).not.toContain('3.0.0');
  });

  it('stops on Ctrl-C in the middle of an upload: exit 130, one line, and the server stores nothing', async () => {
    const proxy = await slowProxy(live.url, 1024 * 1024);
    try {
      const child = spawn(
        process.execPath,
        [bin, 'agent', 'add', bigJar, '--kind', 'java', '--version', '4.0.0', '--server', proxy.url],
        { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await proxy.reached;
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toMatch(
        /^uploading big-agent\.jar \(1\d\.\d MiB\)\n(.*\n)*agentpack: interrupted; the server stored nothing\n$/,
      );
    } finally {
      proxy.server.close();
    }
    expect(await catalogVersions('java')).not.toContain('4.0.0');
    // The server dropped its spool file once the upload was cut off.
    const spool = join(live.t.dataDir, 'tmp');
    for (let i = 0; i < 100 && (await uploadsIn(spool)).length > 0; i++) await sleep(50);
    expect(await uploadsIn(spool)).toEqual([]);
  });

  it('exits 2 with one line when no credentials are set', async () => {
    const result = await agentpack(
      ['agent', 'add', JAVA_AGENT, '--kind', 'java', '--version', '3.0.0', '--server', live.url],
      { cwd: scratch, env: cleanEnv({}, scratch) },
    );
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(
      /^agentpack: agent add --server: no credentials: set AGENTPACK_AUTH/,
    );
  });
});

describe('agentpack agent add on the local store', () => {
  it('shows reading progress for a big archive and adds it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-agent-add-'));
    try {
      const result = await agentpack(['agent', 'add', bigJar, '--kind', 'java', '--version', '9.0.0'], {
        cwd: dataDir,
        env: cleanEnv({ AGENTPACK_DATA_DIR: join(dataDir, 'data') }, dataDir),
      });
      expect(result.stderr).toMatch(/^reading big-agent\.jar \(1\d\.\d MiB\)\n/);
      expect(result.stderr).toMatch(/\nread 1\d\.\d MiB in .+\n$/);
      expect(result.stdout).toMatch(/^added java 9\.0\.0: 20\d\d entries, \d+ bytes, sha256 [0-9a-f]{64}\n$/);
      expect(result.code).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('agentpack bundles rebuild', () => {
  const ORGS = 300;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agentpack-rebuild-'));
    const config = loadConfig({ AGENTPACK_DATA_DIR: dataDir }, dataDir);
    const services = await openServices(config);
    try {
      await services.bundles.loadFixtures();
      for (let i = 0; i < ORGS; i++)
        await services.credentials.createOrganization(`Org ${i}`, { actor: 'test' });
    } finally {
      await services.close();
    }
  }, 120_000);

  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts a rebuild and sends SIGINT as soon as the first progress line appears. */
  function interruptedRebuild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child: ChildProcess = spawn(process.execPath, [bin, 'bundles', 'rebuild'], {
      cwd: dataDir,
      env: cleanEnv({ AGENTPACK_DATA_DIR: dataDir }, dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (!signalled && stderr.includes('\n')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('stops after the organization at hand on Ctrl-C, prints what it did, exits 130; a second run finishes', async () => {
    const first = await interruptedRebuild();
    expect(first.stderr).toMatch(/^rebuilding bundles: 1\/600 \(0%\)\n/);
    expect(first.stderr).toContain(
      'stopping after the current organization (Ctrl-C again to stop at once)\n',
    );
    const summary =
      /^interrupted after (\d+) of 300 organizations: rebuilt (\d+) bundles \(0 already current\) in [\d.]+ s; expired bundles were not collected; run it again to finish/.exec(
        first.stdout,
      );
    expect(summary, first.stdout).not.toBeNull();
    const orgsDone = Number(summary?.[1]);
    const built = Number(summary?.[2]);
    expect(first.code).toBe(130);
    expect(orgsDone).toBeGreaterThanOrEqual(1);
    expect(orgsDone).toBeLessThan(ORGS);
    // Whole organizations only: both kinds of every organization it reached.
    expect(built).toBe(orgsDone * 2);
    expect((await readdir(dataDir)).filter((name) => /\.(part|tmp)$/.test(name))).toEqual([]);

    // Every record the first run wrote is whole: the second run finds those current and builds the rest.
    const second = await agentpack(['bundles', 'rebuild', '--json'], {
      cwd: dataDir,
      env: cleanEnv({ AGENTPACK_DATA_DIR: dataDir }, dataDir),
    });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      organizations: ORGS,
      organizationsDone: ORGS,
      alreadyCurrent: built,
      built: ORGS * 2 - built,
      failed: 0,
      interrupted: false,
    });
  });
});
