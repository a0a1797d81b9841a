import { execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { createTestApp, type TestApp } from '../http/harness.js';

/**
 * A real agentpack server for tests that drive it the way users do (bash, curl, openssl, the
 * `agentpack` binary): the HTTP test harness listening on 127.0.0.1 with a public URL that
 * matches, so signed links point back at it.
 */

const exec = promisify(execFile);
export const root = join(import.meta.dirname, '..', '..');
export const bin = join(root, 'bin', 'agentpack.js');

export interface LiveServer {
  readonly t: TestApp;
  readonly url: string;
  /** AGENTPACK_URL, AGENTPACK_ORG_ID, AGENTPACK_AUTH, AGENTPACK_API_KEY for Acme's member. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startLiveServer(): Promise<LiveServer> {
  const port = await freePort();
  const t = await createTestApp({ env: { PORT: String(port), HOST: '127.0.0.1' } });
  await t.app.listen({ host: '127.0.0.1', port });
  const url = `http://127.0.0.1:${port}`;
  return {
    t,
    url,
    env: {
      AGENTPACK_URL: url,
      AGENTPACK_ORG_ID: t.acme.orgId,
      AGENTPACK_AUTH: `${t.member.email}:${t.member.serviceKey}`,
      AGENTPACK_API_KEY: t.acme.apiKey,
    },
    close: () => t.close(),
  };
}

/** Full downloads the server has served (the embedded format), from its metrics. */
export function downloadsServed(live: LiveServer): number {
  return live.t.services.metrics.downloads.get({ format: 'embedded' });
}

/** Builds dist/ when any source is newer than its output (tsc emits even if another file has a type error). */
export async function ensureBuilt(): Promise<void> {
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
  if (await stale(join(root, 'src')))
    await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ was not built');
}

/** A directory holding an `agentpack` command (this checkout's bin), to put first on PATH. */
export async function agentpackOnPath(dir: string): Promise<string> {
  const binDir = join(dir, 'bin');
  await mkdir(binDir, { recursive: true });
  const shim = join(binDir, 'agentpack');
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`);
  await chmod(shim, 0o755);
  return binDir;
}

export interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, never throwing on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; stdin?: string },
): Promise<Ran> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `agentpack ARGS` from this checkout as a separate process. */
export function agentpack(args: readonly string[], options: { cwd: string; env: Record<string, string> }) {
  return run(process.execPath, [bin, ...args], options);
}

/** A minimal environment: no AGENTPACK_* leaks in from the machine running the tests. */
export function cleanEnv(extra: Record<string, string>, home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', ...extra };
}
