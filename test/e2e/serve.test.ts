import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'agentpack.js');

/** Builds dist/ when any source is newer than its output (tsc emits even if another file has a type error). */
async function ensureBuilt(): Promise<void> {
  const stale = async (dir: string): Promise<boolean> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (await stale(path)) return true;
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const built = join(root, 'dist', relative(join(root, 'src'), path)).replace(/\.ts$/, '.js');
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) return true;
      }
    }
    return false;
  };
  if (await stale(join(root, 'src'))) {
    await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
  }
  expect(existsSync(join(root, 'dist', 'cli', 'commands', 'serve.js'))).toBe(true);
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything printed on stdout up to the "listening" line. */
  readonly stdout: string;
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `agentpack serve` and waits for the line that prints its URL. */
function serve(cwd: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no URL within 60 s; stdout: ${stdout} stderr: ${stderr}`)),
      60_000,
    );
    const check = () => {
      const match = /agentpack: listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      resolve({
        child,
        url: match[1] as string,
        stdout,
        async stop() {
          child.kill('SIGTERM');
          const code = await exited;
          return { code, stdout, stderr };
        },
      });
    };
    child.stdout?.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; stdout: ${stdout} stderr: ${stderr}`));
    });
  });
}

async function curl(args: string[]): Promise<string> {
  const { stdout } = await exec('curl', ['-sS', '--fail-with-body', ...args]);
  return stdout;
}

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'agentpack-e2e-serve-'));
}, 180_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agentpack serve as a real process', () => {
  it('starts fresh, prints the URL and a one-time password once, and keeps everything across a restart', async () => {
    const env = { PORT: '0', AGENTPACK_DATA_DIR: join(dir, 'data') };
    const first = await serve(dir, env);
    const password = /agentpack: one-time password: (\S+)/.exec(first.stdout)?.[1];
    expect(first.stdout).toContain('agentpack: created system admin admin@agentpack.local');
    expect(first.stdout).toContain('agentpack: created organization Demo (demo)');
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.stdout).toContain(`(public URL ${first.url})`);

    const jar = join(dir, 'cookies.txt');
    const login = JSON.parse(
      await curl([
        '-c',
        jar,
        '-H',
        'content-type: application/json',
        '--data',
        JSON.stringify({ email: 'admin@agentpack.local', password }),
        `${first.url}/api/v1/session`,
      ]),
    );
    expect(login.user).toMatchObject({ email: 'admin@agentpack.local', systemAdmin: true });
    const demo = login.orgs.find((o: { slug: string }) => o.slug === 'demo');
    expect(demo).toBeDefined();
    const keys = JSON.parse(await curl(['-b', jar, `${first.url}/api/v1/orgs/${demo.orgId}/keys`]));
    expect(keys.apiKey).toMatch(/^apo_/);
    expect(await curl([`${first.url}/healthz`])).toBe('{"status":"ok"}');

    const stopped = await first.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('agentpack: stopped (SIGTERM)');
    expect(stopped.stderr).not.toContain(password);
    for (const line of stopped.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

    const second = await serve(dir, env);
    try {
      expect(second.stdout).not.toContain('one-time password');
      expect(second.stdout).not.toContain('created');
      const again = JSON.parse(
        await curl([
          '-H',
          'content-type: application/json',
          '--data',
          JSON.stringify({ email: 'admin@agentpack.local', password }),
          `${second.url}/api/v1/session`,
        ]),
      );
      expect(again.orgs.find((o: { slug: string }) => o.slug === 'demo')?.orgId).toBe(demo.orgId);
      const keysAgain = JSON.parse(await curl(['-b', jar, `${second.url}/api/v1/orgs/${demo.orgId}/keys`]));
      expect(keysAgain.apiKey).toBe(keys.apiKey);
    } finally {
      expect((await second.stop()).code).toBe(0);
    }
  });

  it('stops at once with one line and exit 2 on invalid configuration', async () => {
    const result = await exec(process.execPath, [bin, 'serve'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', PORT: 'abc', AGENTPACK_DATA_DIR: join(dir, 'never') },
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      "agentpack: invalid configuration: PORT must be an integer from 0 to 65535, got 'abc'\n",
    );
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('reports a bad master key as invalid configuration too', async () => {
    const result = await exec(process.execPath, [bin, 'serve'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        AGENTPACK_DATA_DIR: join(dir, 'badkey'),
        AGENTPACK_MASTER_KEY: 'c2hvcnQ=',
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'agentpack: invalid configuration: AGENTPACK_MASTER_KEY must be base64 of 32 bytes; found 5 bytes\n',
    );
  });
});
