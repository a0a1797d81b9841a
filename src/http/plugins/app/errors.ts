import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AgentpackError, type ErrorCode, RateLimitedError } from '../../../common/errors.js';
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
}

const INTERNAL: ErrorAnswer['body'] = { error: 'INTERNAL', message: 'internal error' };

/**
 * Our errors keep their code, status and message; Fastify's own 4xx (validation, bad JSON, body
 * too large) keep their message under a code named after the status. A 5xx never tells the
 * client more than "internal error": the details go to the log.
 */
export function describeError(error: unknown): ErrorAnswer {
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

export default fp(
  async (app) => {
    app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const answer = describeError(error);
      if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.debug({ error: answer.body.error, status: answer.status }, 'request rejected');
      if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(answer.status).send(answer.body);
    });
    app.setNotFoundHandler((request, reply) => {
      const path = redactUrl(request.url.split('?')[0] ?? '').slice(0, 200);
      return reply
        .code(404)
        .send({ error: 'NOT_FOUND' satisfies ErrorCode, message: `no route ${request.method} ${path}` });
    });
  },
  { name: 'errors', fastify: '5.x' },
);
