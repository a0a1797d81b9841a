import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of a test's own (never the shared one): its own cluster in a temp
 * directory, listening on 127.0.0.1 and a free port, trust authentication. It can be stopped
 * (fast shutdown: clients get 57P01), killed and started again on the same port and data.
 */
export interface PrivatePostgres {
  readonly url: string;
  readonly port: number;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Fast shutdown (SIGINT, as `pg_ctl stop -m fast`); resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL of the server and its backends (a crash); resolves once the postmaster has exited. */
  kill(): Promise<void>;
  /** Starts the server again; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server and removes its cluster. */
  close(): Promise<void>;
}

/** Why a private server cannot run here, or undefined when it can. */
export function privatePostgresUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to run PostgreSQL as the postgres user';
  if (!existsSync(join(BIN, 'postgres'))) return `no PostgreSQL 15 binaries in ${BIN}`;
  return undefined;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function postgresUid(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await exec('id', ['-u', 'postgres']);
  const { stdout: group } = await exec('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(group.trim()) };
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const reason = privatePostgresUnavailable();
  if (reason !== undefined) throw new Error(reason);
  const root = await mkdtemp(join(tmpdir(), 'agentpack-pg-'));
  const { uid, gid } = await postgresUid();
  const data = join(root, 'data');
  const socket = join(root, 'socket');
  await mkdir(socket);
  await chown(root, uid, gid);
  await chown(socket, uid, gid);
  await exec(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'], {
    uid,
    gid,
    env: { PATH: '/usr/bin:/bin' },
    cwd: root,
  });
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    // Spawned as the postgres user directly (not through runuser, which signals its whole
    // process group when it is stopped), in a process group of its own.
    const proc = spawn(
      join(BIN, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        socket,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'logging_collector=off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], uid, gid, detached: true, env: { PATH: '/usr/bin:/bin' } },
    );
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString('utf8');
        if (log.includes('database system is ready to accept connections')) {
          proc.stderr?.off('data', onData);
          proc.stderr?.resume();
          resolve();
        }
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${log}`)));
    });
  };

  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      await exited;
    },
    async kill() {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      // The whole group: backends left behind would keep the old shared memory in use.
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      await exited;
    },
    start,
    async close() {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
