import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SERVER_TIMEOUTS, startServer } from '../../src/http/server.js';
import { openServices } from '../../src/services.js';

const exec = promisify(execFile);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-server-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startServer', () => {
  it('listens on the configured host (PORT=0: a free port), sets timeouts, and closes app and services', async () => {
    const config = loadConfig({ PORT: '0', AGENTPACK_DATA_DIR: join(dir, 'data') }, dir);
    const services = await openServices(config);
    const server = await startServer(services, config, { logger: false });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.app.server.requestTimeout).toBe(SERVER_TIMEOUTS.requestTimeoutMs);
    expect(server.app.server.headersTimeout).toBe(SERVER_TIMEOUTS.headersTimeoutMs);
    expect(server.app.server.keepAliveTimeout).toBe(SERVER_TIMEOUTS.keepAliveTimeoutMs);
    const { stdout } = await exec('curl', ['-fsS', `${server.url}/healthz`]);
    expect(JSON.parse(stdout)).toEqual({ status: 'ok' });

    await Promise.all([server.close(), server.close()]);
    await expect(exec('curl', ['-fsS', `${server.url}/healthz`])).rejects.toThrow();
    await expect(services.store.listOrganizations()).rejects.toThrow();
  });

  it('fails with the listen error when the port is taken, and leaves nothing listening', async () => {
    const config = loadConfig({ PORT: '0', AGENTPACK_DATA_DIR: join(dir, 'data') }, dir);
    const services = await openServices(config);
    const first = await startServer(services, config, { logger: false });
    try {
      const port = new URL(first.url).port;
      const taken = loadConfig({ PORT: port, AGENTPACK_DATA_DIR: join(dir, 'data') }, dir);
      await expect(startServer(services, taken, { logger: false })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
