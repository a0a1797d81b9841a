import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHeaders } from '../http/harness.js';
import { freePort, type LiveServer, root, startLiveServer } from '../recipes/live.js';

/**
 * The README's nginx configuration, run as written (ports aside) with nginx's auth_request in
 * front of a stand-in collector and a real agentpack server: the gateway passes valid agent
 * headers to the collector and answers 401 for anything else.
 */
function readmeNginxServer(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /<!-- gateway:nginx -->\n```nginx\n([\s\S]*?)```\n<!-- \/gateway:nginx -->/.exec(readme);
  if (match?.[1] === undefined) throw new Error('README.md has no gateway:nginx block');
  return match[1];
}

let dir: string;
let live: LiveServer;
let collector: Server;
let nginx: ChildProcess;
let gateway: string;
const received: { orgId: string | undefined; path: string | undefined }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-gateway-'));
  live = await startLiveServer();
  collector = createServer((request, response) => {
    received.push({ orgId: request.headers['x-agentpack-org-id'] as string | undefined, path: request.url });
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'text/plain' }).end('ingested\n'));
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const collectorPort = (collector.address() as { port: number }).port;
  const gatewayPort = await freePort();
  const server = readmeNginxServer()
    .replace('127.0.0.1:4318;', `127.0.0.1:${gatewayPort};`)
    .replace('http://127.0.0.1:14318', `http://127.0.0.1:${collectorPort}`)
    .replace('http://127.0.0.1:8080', live.url);
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub));
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;\nmaster_process off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n` +
      `events { worker_connections 64; }\nhttp {\n  access_log off;\n` +
      `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;\n` +
      `  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n${server}}\n`,
  );
  nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  gateway = `http://127.0.0.1:${gatewayPort}`;
  // Ready when it answers: wait for the state, not for a time.
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}; see ${dir}/error.log`);
    try {
      await fetch(gateway);
      break;
    } catch {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
});

afterAll(async () => {
  if (nginx !== undefined && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx.once('exit', resolve));
    nginx.kill('SIGTERM');
    await exited;
  }
  await new Promise((resolve) => collector?.close(resolve));
  await live?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('nginx auth_request in front of a collector, as the README configures it', () => {
  it('passes an agent with valid credentials and API key, telling the collector its organization', async () => {
    const response = await fetch(`${gateway}/v1/traces`, {
      method: 'POST',
      headers: { ...agentHeaders(live.t.acme), 'content-type': 'application/x-protobuf' },
      body: Buffer.from('spans'),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ingested\n');
    expect(received.at(-1)).toEqual({ orgId: live.t.acme.orgId, path: '/v1/traces' });
  });

  it("answers 401 for another organization's API key, and for a key past its grace period", async () => {
    const before = received.length;
    const wrongOrg = await fetch(`${gateway}/v1/traces`, {
      method: 'POST',
      headers: { ...agentHeaders(live.t.acme), 'api-key': live.t.other.apiKey },
      body: 'x',
    });
    expect(wrongOrg.status).toBe(401);

    const old = agentHeaders(live.t.acme);
    await live.t.services.credentials.rotateKey(live.t.acme.orgId, 'api-key', 60, 'test');
    expect((await fetch(`${gateway}/v1/metrics`, { method: 'POST', headers: old, body: 'x' })).status).toBe(
      200,
    );
    live.t.clock += 61_000;
    expect((await fetch(`${gateway}/v1/metrics`, { method: 'POST', headers: old, body: 'x' })).status).toBe(
      401,
    );
    expect(received.length).toBe(before + 1);
  });
});
