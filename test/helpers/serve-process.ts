import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'agentpack.js');

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
  if (await stale(join(root, 'src'))) {
    await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
  }
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything printed on stdout up to the "listening" line. */
  readonly stdout: string;
  /** Everything on stderr (JSON log lines) so far. */
  stderr(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `agentpack serve` (from dist/) and resolves once it prints the URL it listens on. */
export function startServe(cwd: string, env: Record<string, string>): Promise<ServeProcess> {
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /agentpack: listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (match === null) return;
      child.stdout?.off('data', check);
      resolve({
        child,
        url: match[1] as string,
        stdout,
        stderr: () => stderr,
        alive: () => child.exitCode === null && child.signalCode === null,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return { ...(await exited), stdout, stderr };
        },
      });
    };
    child.stdout?.on('data', check);
    exited.then(({ code }) =>
      reject(new Error(`serve exited with ${code} before listening; stdout: ${stdout} stderr: ${stderr}`)),
    );
  });
}
