import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config.js';

/**
 * JSON logs (pino, through Fastify) that never hold a secret: credential headers and cookies
 * are censored wherever a serializer would put them, and URLs lose link tokens and anything
 * shaped like an agentpack key before they are written.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["api-key"]',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["api-key"]',
  'headers.cookie',
  'headers["x-csrf-token"]',
];

const KEY_LIKE = /ap[osu]_[0-9A-Za-z]{12}_[0-9A-Za-z]{30}/g;

/** `/dl/<token>?x` -> `/dl/[redacted]?x`; keys anywhere in the URL become `[redacted-key]`. */
export function redactUrl(url: string): string {
  return url.replace(/^\/dl\/[^?#]*/, '/dl/[redacted]').replace(KEY_LIKE, '[redacted-key]');
}

export type LoggerOption = boolean | Readonly<Record<string, unknown>>;

/**
 * Fastify's `logger` option: the service defaults (level from config, redaction, safe request
 * serializer) merged with what the caller passes (tests pass a `stream`). Redaction and the
 * serializers are always ours.
 */
export function loggerOptions(config: AppConfig, override: LoggerOption | undefined): false | object {
  if (override === false) return false;
  const extra = typeof override === 'object' ? override : {};
  const serializers = (extra.serializers ?? {}) as Record<string, unknown>;
  return {
    level: config.logLevel,
    ...extra,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { ...serializers, req: serializeRequest },
  };
}

/** Method, redacted URL, host, address and route pattern; never headers. Accepts anything logged as `req`. */
function serializeRequest(request: Partial<FastifyRequest> | null | undefined): Record<string, unknown> {
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const url = text(request?.url);
  const route = text(request?.routeOptions?.url);
  return {
    method: text(request?.method),
    url: url === undefined ? undefined : redactUrl(url),
    host: text(request?.host),
    remoteAddress: text(request?.ip),
    ...(route === undefined ? {} : { route }),
  };
}
