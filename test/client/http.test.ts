import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError, InterruptedError, NetworkError } from '../../src/client/errors.js';
import { etagValue, httpError, oneLine, reprDigestHex, type Session, send } from '../../src/client/http.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** Two origins: `a` holds the credentials, `b` is somewhere a redirect may lead. */
const seen: { origin: 'a' | 'b'; path: string; authorization?: string; apiKey?: string }[] = [];
const handlers = new Map<string, Handler>();
let a: Server;
let b: Server;
let baseA = '';
let baseB = '';

async function listen(origin: 'a' | 'b'): Promise<[Server, string]> {
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    seen.push({
      origin,
      path,
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      ...(typeof request.headers['api-key'] === 'string' ? { apiKey: request.headers['api-key'] } : {}),
    });
    const handler = handlers.get(`${origin}${path}`);
    if (handler === undefined) response.writeHead(200).end('ok');
    else handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

beforeAll(async () => {
  [a, baseA] = await listen('a');
  [b, baseB] = await listen('b');
});

afterAll(async () => {
  for (const server of [a, b]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function session(overrides: Partial<Session> = {}): Session {
  return {
    signal: new AbortController().signal,
    auth: { origin: baseA, headers: { authorization: 'c2VjcmV0', 'api-key': 'apo_secret' } },
    secrets: ['apo_secret', 'c2VjcmV0'],
    idleTimeoutMs: 10_000,
    ...overrides,
  };
}

describe('send', () => {
  it('keeps the credentials on a redirect within the origin and drops them on one that leaves it', async () => {
    seen.length = 0;
    handlers.set('a/start', (_q, r) => r.writeHead(302, { location: '/moved' }).end());
    handlers.set('a/moved', (_q, r) => r.writeHead(307, { location: `${baseB}/elsewhere` }).end());
    const exchange = await send(session(), new URL(`${baseA}/start`));
    expect(await exchange.response.text()).toBe('ok');
    exchange.done();
    expect(exchange.url.href).toBe(`${baseB}/elsewhere`);
    expect(seen).toEqual([
      { origin: 'a', path: '/start', authorization: 'c2VjcmV0', apiKey: 'apo_secret' },
      { origin: 'a', path: '/moved', authorization: 'c2VjcmV0', apiKey: 'apo_secret' },
      { origin: 'b', path: '/elsewhere' },
    ]);
  });

  it('gives up after five redirects', async () => {
    handlers.set('a/loop', (_q, r) => r.writeHead(302, { location: '/loop' }).end());
    await expect(send(session(), new URL(`${baseA}/loop`))).rejects.toThrow(
      new NetworkError(`${baseA}/loop: more than 5 redirects`),
    );
  });

  it('aborts a transfer that stops sending, saying for how long', async () => {
    handlers.set('a/stall', (_q, r) => {
      r.writeHead(200, { 'content-length': 100 });
      r.write('x'.repeat(10));
    });
    const exchange = await send(session({ idleTimeoutMs: 200 }), new URL(`${baseA}/stall`));
    const error = await exchange.response
      .arrayBuffer()
      .then(() => undefined)
      .catch((e: unknown) => exchange.failure(e, 'downloading'));
    expect(error).toEqual(
      new NetworkError(`${baseA}/stall: no data from the server for 0.2 s while downloading`),
    );
  });

  it('reports an abort by the user as an interruption', async () => {
    handlers.set('a/slow', () => undefined);
    const controller = new AbortController();
    const pending = send(session({ signal: controller.signal }), new URL(`${baseA}/slow`));
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe('httpError', () => {
  async function errorFor(status: number, body: string, headers: Record<string, string> = {}, path = '/e') {
    handlers.set(`a${path}`, (_q, r) =>
      r.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body),
    );
    const exchange = await send(session(), new URL(`${baseA}${path}`));
    return httpError(exchange, session());
  }

  it("quotes the server's code and message and adds what to do", async () => {
    const error = await errorFor(429, JSON.stringify({ error: 'RATE_LIMITED', message: 'slow down' }), {
      'retry-after': '30',
    });
    expect(error).toBeInstanceOf(HttpError);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.httpStatus).toBe(429);
    expect(error.message).toBe(
      `${baseA}/e: HTTP 429 RATE_LIMITED: slow down (too many requests; retry after 30 s)`,
    );
  });

  it('scrubs secrets and control characters from what the server says', async () => {
    const message = 'bad key apo_secret\u001b[31m\nsecond line';
    const error = await errorFor(401, JSON.stringify({ error: 'UNAUTHORIZED', message }));
    expect(error.message).toBe(
      `${baseA}/e: HTTP 401 UNAUTHORIZED: bad key … [31m second line (the server refused the credentials in AGENTPACK_AUTH and AGENTPACK_API_KEY)`,
    );
  });

  it('copes with a body that is not JSON, and with a 410', async () => {
    expect((await errorFor(502, '<html>bad gateway</html>')).message).toBe(
      `${baseA}/e: HTTP 502 (a server error; retry later)`,
    );
    expect((await errorFor(410, JSON.stringify({ error: 'GONE', message: 'keys expired' }))).message).toBe(
      `${baseA}/e: HTTP 410 GONE: keys expired (the bundle's keys have expired; download the latest bundle)`,
    );
  });
});

describe('header values', () => {
  it('reads strong and weak ETags', () => {
    expect(etagValue('"abc"')).toBe('abc');
    expect(etagValue('W/"abc"')).toBe('abc');
    expect(etagValue('abc')).toBeUndefined();
    expect(etagValue(null)).toBeUndefined();
  });

  it('reads the SHA-256 of a Repr-Digest among others', () => {
    const hex = 'ab'.repeat(32);
    const b64 = Buffer.from(hex, 'hex').toString('base64');
    expect(reprDigestHex(`sha-512=:AAAA:, sha-256=:${b64}:`)).toBe(hex);
    expect(reprDigestHex('sha-256=:AAAA:')).toBeUndefined();
    expect(reprDigestHex(null)).toBeUndefined();
  });

  it('cuts long server text to one short line', () => {
    expect(oneLine('x'.repeat(300), [])).toBe(`${'x'.repeat(200)}…`);
  });
});
