import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimitedError } from '../../../common/errors.js';
import type { RequestLimits } from '../../../config.js';
import type { Metrics } from '../../../metrics.js';
import { clientKey } from '../../client.js';

/** The request-rate limits routes opt into (`config: { rateLimit: requestLimit(...) }`). */
export type RequestLimitName = 'downloads' | 'link-downloads' | 'links' | 'signins';

const PER_MINUTE: Record<RequestLimitName, keyof RequestLimits> = {
  downloads: 'downloadsPerMinute',
  'link-downloads': 'linkDownloadsPerMinute',
  links: 'linksPerMinute',
  signins: 'signInsPerMinute',
};

/**
 * A route's rate limit from the configuration (false when its rate is 0: off). Authenticated
 * requests count against their credential (an agent's organization, a personal key, a
 * signed-in user), so a fleet behind one address is not throttled as one client; anonymous ones
 * (signed links, sign-ins) against their client address (an IPv6 /64). Failed authentications
 * have their own counters (plugins/app/auth.ts).
 */
export function requestLimit(
  services: { config: { requestLimits: RequestLimits }; metrics: Metrics },
  name: RequestLimitName,
): RateLimitOptions | false {
  const max = services.config.requestLimits[PER_MINUTE[name]];
  if (max === 0) return false;
  return {
    max,
    timeWindow: 60_000,
    // Runs after the auth plugin's onRequest hook (route hooks follow the instance's), so the
    // principal is known here.
    keyGenerator: limitKey,
    onExceeded: () => services.metrics.rateLimited.inc({ limit: name }),
  };
}

export function limitKey(request: FastifyRequest): string {
  const principal = request.principal;
  switch (principal?.type) {
    case 'agent':
      return `agent:${principal.orgId}`;
    case 'api':
      return `key:${principal.keyIds.serviceKey}`;
    case 'session':
      return `user:${principal.user.userId}`;
    default:
      return `addr:${clientKey(request.ip)}`;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError(
          `too many requests: at most ${context.max} a minute; retry in ${context.after}`,
          context.ttl / 1000,
        ),
    });
  },
  { name: 'rate-limits', fastify: '5.x' },
);
