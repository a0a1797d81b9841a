import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimitedError } from '../../../common/errors.js';

/**
 * Request-rate limits per client address, opt-in per route (`config: { rateLimit: ... }`);
 * failed authentications have their own, stricter counter (see plugins/app/auth.ts).
 */
export const DOWNLOAD_RATE_LIMIT = { max: 120, timeWindow: 60_000 } as const;
export const LOGIN_RATE_LIMIT = { max: 30, timeWindow: 60_000 } as const;

export default fp(
  async (app: FastifyInstance) => {
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError(
          `too many requests: at most ${context.max} per window; retry in ${context.after}`,
        ),
    });
  },
  { name: 'rate-limits', fastify: '5.x' },
);
