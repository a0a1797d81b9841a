import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  AgentpackError,
  type ErrorCode,
  InsufficientStorageError,
  RateLimitedError,
  UnavailableError,
} from '../../../common/errors.js';
import { redactUrl } from '../../logging.js';

/** Fastify's own 4xx errors, answered under the table's code for their status. */
const CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
};

export interface ErrorAnswer {
  readonly status: number;
  /** `error` is a code from the table (src/common/errors.ts). */
  readonly body: { readonly error: AgentpackError['code']; readonly message: string };
  /** Seconds for a `Retry-After` header (503: a dependency is unavailable). */
  readonly retryAfter?: number;
}

const INTERNAL: ErrorAnswer['body'] = { error: 'INTERNAL', message: 'internal error' };

/**
 * Our errors keep their code, status and message; Fastify's own 4xx (validation, bad JSON, body
 * too large) keep their message under a code named after the status. A dependency that is
 * unavailable (503) or full (507) is named with a fixed message; any other 5xx never tells the
 * client more than "internal error": the details go to the log.
 */
export function describeError(error: unknown): ErrorAnswer {
  if (error instanceof UnavailableError) {
    return {
      status: 503,
      body: { error: error.code, message: error.publicMessage },
      retryAfter: error.retryAfterSeconds,
    };
  }
  if (error instanceof InsufficientStorageError) {
    return { status: 507, body: { error: error.code, message: error.publicMessage } };
  }
  if (error instanceof AgentpackError) {
    return error.status >= 500
      ? { status: error.status, body: INTERNAL }
      : {
          status: error.status,
          body: { error: error.code === 'USAGE' ? 'BAD_REQUEST' : error.code, message: error.message },
        };
  }
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError?.validation !== undefined) {
    return { status: 400, body: { error: 'BAD_REQUEST', message: String(fastifyError.message) } };
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      status,
      body: {
        error: CODES[status] ?? 'BAD_REQUEST',
        message: String(fastifyError?.message ?? 'bad request'),
      },
    };
  }
  return { status: 500, body: INTERNAL };
}

/** Headers that describe a body (a bundle's) and must not travel with the error that replaced it. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'content-disposition',
  'content-encoding',
  'accept-ranges',
  'etag',
  'last-modified',
  'repr-digest',
  'link',
];

/**
 * Clears what a handler set up for the body it meant to send. A stream body that fails before
 * its first byte comes back here after Fastify copied its headers onto the raw response, where
 * `reply.getHeader` still finds them: the error's JSON must not go out as an archive.
 */
function forgetBody(reply: FastifyReply, status: number): void {
  for (const name of BODY_HEADERS) {
    // A 416 names the representation's length in Content-Range: bytes */<size>.
    if (status === 416 && name === 'content-range') continue;
    reply.removeHeader(name);
    reply.raw.removeHeader(name);
  }
}

export default fp(
  async (app) => {
    app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const answer = describeError(error);
      if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.debug({ error: answer.body.error, status: answer.status }, 'request rejected');
      if (reply.raw.headersSent) {
        // The status line is out: end the response early (the client sees a short body), never
        // a second one.
        reply.raw.destroy();
        return;
      }
      forgetBody(reply, answer.status);
      if (answer.retryAfter !== undefined) reply.header('Retry-After', String(answer.retryAfter));
      if (error instanceof RateLimitedError && error.retryAfterSeconds !== undefined)
        reply.header('Retry-After', String(error.retryAfterSeconds));
      if (answer.status >= 500) reply.header('Cache-Control', 'no-store');
      return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
    });
    app.setNotFoundHandler((request, reply) => {
      const path = redactUrl(request.url.split('?')[0] ?? '').slice(0, 200);
      return reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${path}` });
    });
  },
  { name: 'errors', fastify: '5.x' },
);
