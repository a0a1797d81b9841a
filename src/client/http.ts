import { relayed } from '../common/errors.js';
import { scrub } from './auth.js';
import { HttpError, InterruptedError, NetworkError } from './errors.js';
import { displayUrl, signedLinkToken } from './urls.js';

/**
 * One HTTP exchange with the service: redirects followed by hand so credentials never leave
 * the origin they were meant for, a watchdog that aborts when no data arrives for a while,
 * and every failure translated into one printable line.
 */

export interface Session {
  /** Aborted by the user (Ctrl-C). */
  readonly signal: AbortSignal;
  /** Headers sent only to `origin` (and dropped when a redirect leaves it). */
  readonly auth?: { readonly origin: string; readonly headers: Readonly<Record<string, string>> };
  /** Values scrubbed from anything the server says before it is printed. */
  readonly secrets: readonly string[];
  /** Abort when no byte arrives for this long. */
  readonly idleTimeoutMs: number;
}

export interface Exchange {
  readonly response: Response;
  /** Where the response came from, after redirects. */
  readonly url: URL;
  /** Call for every chunk read, so a slow but moving transfer is not cut off. */
  readonly touch: () => void;
  /** Stops the watchdog once the body is consumed or abandoned. */
  readonly done: () => void;
  /** Translates an error thrown while reading the body. */
  readonly failure: (error: unknown, doing: string) => Error;
}

const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 4096;

export async function send(
  session: Session,
  url: URL,
  init: { method?: 'GET' | 'HEAD'; headers?: Record<string, string> } = {},
): Promise<Exchange> {
  const watchdog = new Watchdog(session.signal, session.idleTimeoutMs);
  let current = url;
  const failure = (error: unknown, doing: string): Error => {
    watchdog.stop();
    if (session.signal.aborted) return new InterruptedError();
    if (watchdog.timedOut)
      return new NetworkError(
        `${displayUrl(current)}: no data from the server for ${session.idleTimeoutMs / 1000} s while ${doing}`,
      );
    return new NetworkError(
      `${displayUrl(current)}: ${describeFailure(error, session.secrets)} while ${doing}`,
      {
        cause: error,
      },
    );
  };
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...init.headers };
    if (session.auth !== undefined && current.origin === session.auth.origin)
      Object.assign(headers, session.auth.headers);
    let response: Response;
    try {
      response = await fetch(current, {
        method: init.method ?? 'GET',
        headers,
        redirect: 'manual',
        signal: watchdog.signal,
      });
    } catch (error) {
      throw failure(error, 'connecting');
    }
    const location = response.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null) {
      watchdog.touch();
      return {
        response,
        url: current,
        touch: () => watchdog.touch(),
        done: () => watchdog.stop(),
        failure,
      };
    }
    await response.body?.cancel();
    if (hop >= MAX_REDIRECTS) {
      watchdog.stop();
      throw new NetworkError(`${displayUrl(url)}: more than ${MAX_REDIRECTS} redirects`);
    }
    current = new URL(location, current);
  }
}

/** Reads a small body whole; more than `limit` bytes gives undefined (the caller says why that is wrong). */
export async function readSmallBody(
  exchange: Exchange,
  limit: number,
  doing: string,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of exchange.response.body ?? []) {
      exchange.touch();
      size += chunk.length;
      if (size > limit) {
        await exchange.response.body?.cancel().catch(() => undefined);
        return undefined;
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (error) {
    throw exchange.failure(error, doing);
  } finally {
    exchange.done();
  }
  return Buffer.concat(chunks);
}

/**
 * The error for a response with an unexpected status: the server's JSON `{error, message}`
 * (scrubbed, one line, short) plus a hint at what the user can do about it.
 */
export async function httpError(exchange: Exchange, session: Session): Promise<HttpError> {
  const { response, url } = exchange;
  const body = await readSmallBody(exchange, MAX_ERROR_BODY, 'reading the error').catch(() => undefined);
  const { code, message } = parseErrorBody(body);
  const status = response.status;
  const said = [code, message === undefined ? undefined : `${message}`].filter(Boolean).join(': ');
  const hint = hintFor(status, url, session, response.headers.get('retry-after'));
  const text = `${displayUrl(url)}: HTTP ${status}${said === '' ? '' : ` ${oneLine(said, session.secrets)}`}${hint === undefined ? '' : ` (${hint})`}`;
  return new HttpError(relayed(code ?? `HTTP_${status}`), text, status);
}

function hintFor(status: number, url: URL, session: Session, retryAfter: string | null): string | undefined {
  if (status === 401)
    return session.auth === undefined
      ? 'no credentials were sent: set AGENTPACK_AUTH and AGENTPACK_API_KEY, or use a signed link'
      : 'the server refused the credentials in AGENTPACK_AUTH and AGENTPACK_API_KEY';
  if (status === 403 && signedLinkToken(url) !== undefined)
    return 'the signed link has expired or was altered; ask for a new one';
  if (status === 403) return 'these credentials may not download this bundle';
  if (status === 404) return 'no such organization, agent kind or version, or no access to it';
  if (status === 410) return "the bundle's keys have expired; download the latest bundle";
  if (status === 429)
    return retryAfter !== null && /^\d+$/.test(retryAfter)
      ? `too many requests; retry after ${retryAfter} s`
      : 'too many requests; retry later';
  if (status >= 500) return 'a server error; retry later';
  return undefined;
}

/** The `{error, message}` body the service answers errors with (fields that do not fit are left out). */
export function parseErrorBody(body: Buffer | undefined): { code?: string; message?: string } {
  if (body === undefined || body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (typeof value !== 'object' || value === null) return {};
    const { error, message } = value as Record<string, unknown>;
    return {
      ...(typeof error === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(error) ? { code: error } : {}),
      ...(typeof message === 'string' ? { message } : {}),
    };
  } catch {
    return {};
  }
}

/** Server text made safe for one terminal line: no secrets, no control characters, short. */
export function oneLine(text: string, secrets: readonly string[]): string {
  const clean = scrub(text, secrets)
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** The opaque value of an ETag (`"abc"` or `W/"abc"`), or undefined. */
export function etagValue(header: string | null): string | undefined {
  const match = /^(?:W\/)?"([^"]*)"$/.exec(header?.trim() ?? '');
  return match?.[1];
}

/** The SHA-256 from `Repr-Digest: sha-256=:<base64>:` as hex, or undefined. */
export function reprDigestHex(header: string | null): string | undefined {
  const match = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/]+={0,2}):/i.exec(header ?? '');
  if (match === null) return undefined;
  const bytes = Buffer.from(match[1] as string, 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : undefined;
}

/** One line for a connection-level failure: the errno explained when it is a common one. */
export function describeFailure(error: unknown, secrets: readonly string[]): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running?)',
    ECONNRESET: 'the connection was reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'the connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPIPE: 'the connection was closed',
    UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
    UND_ERR_SOCKET: 'the server closed the connection',
    UND_ERR_HEADERS_TIMEOUT: 'no answer from the server',
    UND_ERR_BODY_TIMEOUT: 'the server stopped sending',
  };
  if (code !== undefined && known[code] !== undefined) return `${known[code]} (${code})`;
  const message = cause instanceof Error ? cause.message : String(cause);
  return oneLine(code === undefined ? message : `${message} (${code})`, secrets);
}

/** An AbortSignal that also fires when `touch` has not been called for `ms`. */
class Watchdog {
  readonly signal: AbortSignal;
  timedOut = false;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    parent: AbortSignal,
    private readonly ms: number,
  ) {
    this.signal = AbortSignal.any([parent, this.controller.signal]);
    this.touch();
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.ms);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
