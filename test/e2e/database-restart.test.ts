import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PrivatePostgres,
  privatePostgresUnavailable,
  startPrivatePostgres,
} from '../helpers/private-postgres.js';
import { ensureBuilt, type ServeProcess, startServe } from '../helpers/serve-process.js';

const skip = privatePostgresUnavailable();
if (skip !== undefined) console.log(`database-restart: skipped (${skip})`);

let dir: string;
let pg: PrivatePostgres | undefined;
let server: ServeProcess | undefined;

beforeAll(async () => {
  if (skip !== undefined) return;
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'agentpack-e2e-pg-restart-'));
  pg = await startPrivatePostgres();
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await pg?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

/** Repeats `attempt` until it returns a value (the state the test waits for); no fixed sleeps. */
async function until<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe.skipIf(skip !== undefined)('agentpack serve on PostgreSQL that restarts', () => {
  it('lives through a fast shutdown and a crash of the database under load: 503 DATABASE_UNAVAILABLE while it is down, 200 once it is back', async () => {
    const db = pg as PrivatePostgres;
    const started = await startServe(dir, {
      PORT: '0',
      AGENTPACK_DATA_DIR: join(dir, 'data'),
      DATABASE_URL: db.url,
      AGENTPACK_MASTER_KEY: randomBytes(32).toString('base64'),
      AGENTPACK_DB_TIMEOUT_MS: '2000',
    });
    server = started;
    const password = /agentpack: one-time password: (\S+)/.exec(started.stdout)?.[1] ?? '';
    const login = await fetch(`${started.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@agentpack.local', password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;

    const get = async (path = '/api/v1/orgs'): Promise<Answer> => {
      const response = await fetch(`${started.url}${path}`, { headers: { cookie } }).catch(
        (error: unknown) => {
          throw new Error(
            `the service does not answer (${String(error)}); its log ends: ${started.stderr().slice(-3000)}`,
          );
        },
      );
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: await response.json(),
      };
    };
    expect((await get()).status).toBe(200);

    // Requests keep running through both outages; every answer must be a 200 or a 503.
    const statuses: number[] = [];
    let load = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (load) statuses.push((await get()).status);
    });

    for (const outage of ['stop', 'kill'] as const) {
      await (outage === 'stop' ? db.stop() : db.kill());
      const down = await until(async () => {
        const answer = await get();
        return answer.status === 503 ? answer : undefined;
      });
      expect(down.body).toEqual({
        error: 'DATABASE_UNAVAILABLE',
        message: 'the database is unavailable; retry later',
      });
      expect(down.retryAfter).toBe('5');
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', checks: { metadata: 'failed' } });
      expect(started.alive()).toBe(true);

      await db.start();
      await until(async () => ((await get()).status === 200 ? true : undefined));
      await until(async () => ((await get('/readyz')).status === 200 ? true : undefined));
    }
    load = false;
    await Promise.all(loops);
    expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(statuses).toContain(503);
    expect(started.alive()).toBe(true);

    const stopped = await started.stop();
    server = undefined;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).not.toContain('Unhandled');
    expect(stopped.stderr).not.toContain(password);
  }, 180_000);
});
