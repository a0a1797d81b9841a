import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from '../helpers/s3server.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../storage/db/postgres-test-db.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/agentpack.js');

interface Instance {
  readonly url: string;
  readonly child: ChildProcess;
}

/**
 * Scale-out: two real server processes share one PostgreSQL database and one S3 server and
 * nothing else. A rotation through one is seen by the other, and concurrent first downloads
 * of a new bundle on both never give a corrupt or mixed bundle.
 */
describePostgres('two instances on one PostgreSQL and one S3', (adminUrl) => {
  let db: TestDatabase;
  let s3: S3TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const instances: Instance[] = [];

  beforeAll(async () => {
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
    db = await createTestDatabase(adminUrl);
    s3 = await startS3Server();
    work = await mkdtemp(join(tmpdir(), 'agentpack-scale-'));
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      AGENTPACK_MASTER_KEY: randomBytes(32).toString('base64'),
      AGENTPACK_S3_BUCKET: s3.bucket,
      AGENTPACK_S3_ENDPOINT: s3.endpoint,
      AWS_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AGENTPACK_DATA_DIR: join(work, 'unused-data-dir'),
      AGENTPACK_LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
      // Instances behind one load balancer share the public URL written into agent configs.
      AGENTPACK_PUBLIC_URL: 'https://agentpack.example.test',
    };
    instances.push(await startInstance(env));
    instances.push(await startInstance(env));
  }, 120_000);

  afterAll(async () => {
    for (const instance of instances) instance.child.kill('SIGTERM');
    await Promise.all(
      instances.map(
        (i) =>
          new Promise((resolve) =>
            i.child.exitCode !== null ? resolve(null) : i.child.once('exit', resolve),
          ),
      ),
    );
    await s3?.close();
    await db?.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('rotates through one instance and serves the new keys through the other; concurrent first builds agree', async () => {
    const [a, b] = instances as [Instance, Instance];
    const org = JSON.parse(
      (await run('node', [bin, 'org', 'create', 'Scale Co', '--json'], { env })).stdout,
    ) as {
      orgId: string;
      apiKey: string;
      agent: { serviceKey: string };
    };
    const user = JSON.parse(
      (
        await run(
          'node',
          [bin, 'user', 'add', 'ci@scale.test', '--org', org.orgId, '--role', 'admin', '--json'],
          { env },
        )
      ).stdout,
    ) as { serviceKey: string };
    const headers = {
      authorization: Buffer.from(`ci@scale.test:${user.serviceKey}`).toString('base64'),
      'api-key': org.apiKey,
    };
    const bundlePath = `/api/v1/orgs/${org.orgId}/agents/java/latest/bundle`;

    const first = await download(b.url, bundlePath, headers);
    expect(await configOf(first)).toContain(`api.service_key=${org.agent.serviceKey}`);

    const rotate = await fetch(`${a.url}/api/v1/orgs/${org.orgId}/keys/agent-service-key/rotate`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ graceSeconds: 0 }),
    });
    expect(rotate.status).toBe(200);
    const keysOnB = (await (await fetch(`${b.url}/api/v1/orgs/${org.orgId}/keys`, { headers })).json()) as {
      agent: { serviceKey: string };
    };
    expect(keysOnB.agent.serviceKey).not.toBe(org.agent.serviceKey);
    const second = await download(b.url, bundlePath, headers);
    const secondConfig = await configOf(second);
    expect(secondConfig).toContain(`api.service_key=${keysOnB.agent.serviceKey}`);
    expect(secondConfig).not.toContain(org.agent.serviceKey);

    // A new bundle identity, requested at once on both instances.
    await fetch(`${b.url}/api/v1/orgs/${org.orgId}/keys/api-key/rotate`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ graceSeconds: 3600 }),
    });
    const keysNow = (await (await fetch(`${a.url}/api/v1/orgs/${org.orgId}/keys`, { headers })).json()) as {
      apiKey: string;
    };
    const nextHeaders = { ...headers, 'api-key': keysNow.apiKey };
    const bodies = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        download(instances[i % 2]?.url as string, bundlePath, nextHeaders),
      ),
    );
    const digests = new Set(bodies.map((body) => createHash('sha256').update(body).digest('hex')));
    expect(digests.size).toBe(1);
    const statement = await (await fetch(`${a.url}${bundlePath}.sha256`, { headers: nextHeaders })).text();
    expect(statement.startsWith(`${[...digests][0]}  `)).toBe(true);
    const file = join(work, 'concurrent.jar');
    await writeFile(file, bodies[0] as Buffer);
    await run('unzip', ['-tq', file]);
    expect(await configOf(bodies[0] as Buffer)).toContain(`api.api_key=${keysNow.apiKey}`);

    const pemA = await (await fetch(`${a.url}/.well-known/agentpack/signing-key.pem`)).text();
    const pemB = await (await fetch(`${b.url}/.well-known/agentpack/signing-key.pem`)).text();
    expect(pemA).toBe(pemB);
  });

  async function configOf(bundle: Buffer): Promise<string> {
    const file = join(work, `${createHash('sha256').update(bundle).digest('hex').slice(0, 12)}.jar`);
    await writeFile(file, bundle);
    return (await run('unzip', ['-p', file, 'agentpack.properties'])).stdout;
  }
});

async function download(base: string, path: string, headers: Record<string, string>): Promise<Buffer> {
  const response = await fetch(`${base}${path}`, { headers });
  if (response.status !== 200)
    throw new Error(`GET ${path} on ${base}: ${response.status} ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer());
}

function startInstance(env: NodeJS.ProcessEnv): Promise<Instance> {
  const child = spawn('node', [bin, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ url: match[1] as string, child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited with ${code}:\n${output}`));
    });
  });
}
