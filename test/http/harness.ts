import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type AppConfig, loadConfig } from '../../src/config.js';
import type { CreatedOrganization } from '../../src/credentials/types.js';
import { type BuildAppOptions, buildApp } from '../../src/http/app.js';
import { openServices, type Services } from '../../src/services.js';

export interface TestUser {
  readonly userId: string;
  readonly email: string;
  readonly password: string;
  readonly serviceKey: string;
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly config: AppConfig;
  readonly dataDir: string;
  /** Every log line the app wrote, as text (JSON). */
  readonly logs: string[];
  /** The injected clock, in ms; tests move it instead of sleeping. */
  clock: number;
  /** "Acme": `admin` (admin) and `member` (member). */
  readonly acme: CreatedOrganization;
  /** "Other": `otherAdmin` (admin). */
  readonly other: CreatedOrganization;
  readonly admin: TestUser;
  readonly member: TestUser;
  readonly otherAdmin: TestUser;
  close(): Promise<void>;
}

export const PASSWORD = 'correct horse battery staple';

/** A fresh data directory, services on the embedded default, the app (not listening) and two orgs. */
export async function createTestApp(
  options: { env?: Record<string, string>; app?: BuildAppOptions } = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-http-'));
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const state = { clock: Date.UTC(2030, 0, 1, 12) };
  const config = loadConfig(
    { AGENTPACK_DATA_DIR: dataDir, AGENTPACK_LOG_LEVEL: 'debug', ...options.env },
    dataDir,
  );
  const services = await openServices(config, { now: () => state.clock });
  await services.bundles.loadFixtures();
  const app = await buildApp(services, config, { logger: { stream }, ...options.app });
  const { credentials } = services;
  const acme = await credentials.createOrganization('Acme', { actor: 'test' });
  const other = await credentials.createOrganization('Other', { actor: 'test' });
  const user = async (email: string, orgId: string, role: 'admin' | 'member'): Promise<TestUser> => {
    const added = await credentials.addUser({ email, orgId, role, password: PASSWORD }, 'test');
    return { userId: added.userId, email, password: PASSWORD, serviceKey: added.serviceKey ?? '' };
  };
  const admin = await user('admin@acme.test', acme.orgId, 'admin');
  const member = await user('member@acme.test', acme.orgId, 'member');
  const otherAdmin = await user('admin@other.test', other.orgId, 'admin');
  return {
    app,
    services,
    config,
    dataDir,
    logs,
    get clock() {
      return state.clock;
    },
    set clock(value: number) {
      state.clock = value;
    },
    acme,
    other,
    admin,
    member,
    otherAdmin,
    async close() {
      await app.close();
      await services.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** API headers for a person: base64(email:personal key) + the organization API key. */
export function apiHeaders(user: TestUser, org: { apiKey: string }): Record<string, string> {
  return { authorization: b64(`${user.email}:${user.serviceKey}`), 'api-key': org.apiKey };
}

/** Agent headers: base64(agent user:agent service key) + the organization API key. */
export function agentHeaders(org: CreatedOrganization): Record<string, string> {
  return { authorization: b64(`${org.agent.userName}:${org.agent.serviceKey}`), 'api-key': org.apiKey };
}

export interface LoggedIn {
  readonly cookie: string;
  readonly csrfToken: string;
  /** Cookie + CSRF headers for state-changing requests. */
  readonly headers: Record<string, string>;
}

export async function login(app: FastifyInstance, user: TestUser): Promise<LoggedIn> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { email: user.email, password: user.password },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  const cookie = response.cookies.find((c) => c.name === 'agentpack_session');
  if (cookie === undefined) throw new Error('login set no session cookie');
  const csrfToken = (response.json() as { csrfToken: string }).csrfToken;
  const cookieHeader = `agentpack_session=${cookie.value}`;
  return { cookie: cookieHeader, csrfToken, headers: { cookie: cookieHeader, 'x-csrf-token': csrfToken } };
}
