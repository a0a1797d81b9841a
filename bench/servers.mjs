// Long-running child processes for bench/service.mjs: the agentpack server, nginx, a bare Fastify
// app. Each is started, waited for until it answers, and stopped by its own pid. Also: a free
// port, and resident memory of a process read from /proc.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { rootDir } from './lib.mjs';

/** A port nobody listens on right now (the kernel's choice; a small race is acceptable here). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const TAIL_BYTES = 16 * 1024;

/**
 * Spawns a server and resolves once it is ready: a stdout line matches `ready` (a RegExp; the
 * match is returned as `match`), or, with `port`, a TCP connection to it succeeds. Rejects with
 * the end of its stderr when it exits first or does not get ready within `timeoutMs`.
 */
export async function startProcess(
  command,
  args,
  { name = command, env = process.env, cwd = rootDir, ready, port, timeoutMs = 60_000 } = {},
) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-TAIL_BYTES);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let match = null;
  const readyLine = new Promise((resolve) => {
    if (ready === undefined) return;
    child.stdout.on('data', (chunk) => {
      if (match !== null) return;
      stdout = (stdout + chunk.toString('utf8')).slice(-TAIL_BYTES);
      match = ready.exec(stdout);
      if (match !== null) resolve();
    });
  });
  if (ready === undefined) child.stdout.resume();
  const spawned = new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await spawned;
  const handle = {
    name,
    pid: child.pid,
    match: null,
    stderrTail: () => stderr,
    /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. */
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: not ready after ${timeoutMs} ms`)), timeoutMs);
  });
  const early = exited.then(({ code, signal }) => {
    throw new Error(
      `${name}: exited with ${code ?? signal} before it was ready\n${stderr.trim().slice(-2000)}`,
    );
  });
  try {
    await Promise.race([ready === undefined ? waitForPort(port, exited) : readyLine, early, timeout]);
  } catch (error) {
    await handle.stop(2000);
    throw error;
  } finally {
    clearTimeout(timer);
    early.catch(() => undefined);
  }
  handle.match = match;
  return handle;
}

async function waitForPort(port, exited) {
  let done = false;
  exited.then(() => {
    done = true;
  });
  while (!done) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * nginx from the Debian package serving `root` as static files with sendfile, in the foreground
 * (`daemon off`), no access log, on 127.0.0.1 and a free port; its files (config, pid, temp
 * paths) live in `dir`. Worker processes: `auto` (one per CPU), the packaged default.
 */
export async function startNginx({ binary, root, dir }) {
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const config = join(dir, 'nginx.conf');
  const tmp = join(dir, 'tmp');
  await writeFile(
    config,
    `# written by bench/service.mjs for one run
worker_processes auto;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  types { application/java-archive jar; }
  default_type application/octet-stream;
  client_body_temp_path ${tmp};
  proxy_temp_path ${tmp};
  fastcgi_temp_path ${tmp};
  uwsgi_temp_path ${tmp};
  scgi_temp_path ${tmp};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  );
  const handle = await startProcess(binary, ['-p', dir, '-c', config, '-e', 'stderr'], {
    name: 'nginx',
    port,
  });
  return { ...handle, url: `http://127.0.0.1:${port}`, config };
}

/** Resident set size now and its high-water mark, in KiB, from /proc/<pid>/status (Linux). */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/**
 * Resets the high-water mark to the current RSS (`5` to /proc/<pid>/clear_refs, Linux >= 4.0;
 * needs to own the process). Returns false when the kernel refuses.
 */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls VmRSS every `intervalMs` until `stop()`, which returns the largest value seen and, when
 * the peak could be reset at the start, VmHWM (the kernel's exact peak) too, in KiB.
 */
export function watchMemory(pid, intervalMs = 5) {
  const exact = resetPeak(pid);
  let maxRssKiB = memoryOf(pid).rssKiB;
  const timer = setInterval(() => {
    maxRssKiB = Math.max(maxRssKiB, memoryOf(pid).rssKiB);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const now = memoryOf(pid);
      maxRssKiB = Math.max(maxRssKiB, now.rssKiB);
      return {
        polledKiB: maxRssKiB,
        hwmKiB: exact ? now.hwmKiB : null,
        peakKiB: exact ? now.hwmKiB : maxRssKiB,
      };
    },
  };
}

let clockTicks;
/** USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 almost everywhere). */
function ticksPerSecond() {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return clockTicks;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [state, ppid, ...]. */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time (user + system, every thread) used so far by `pid` and by its descendants that are
 * still running (nginx's workers), in milliseconds; Linux only. Differences of two readings give
 * a server's own cost, which holds up better than wall time on a shared machine.
 */
export function cpuMsOf(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(statFields(name)[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  let ticks = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop();
    try {
      const fields = statFields(next);
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      continue;
    }
    pending.push(...(children.get(next) ?? []));
  }
  return (ticks / ticksPerSecond()) * 1000;
}
