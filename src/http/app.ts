import { readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { AppConfig, TrustProxy } from '../config.js';
import type { Services } from '../services.js';
import { type LoggerOption, loggerOptions } from './logging.js';
import auth from './plugins/app/auth.js';
import errors from './plugins/app/errors.js';
import metrics from './plugins/app/metrics.js';
import securityHeaders from './plugins/app/security-headers.js';
import servicesPlugin from './plugins/app/services.js';
import cookies from './plugins/external/cookie.js';
import rateLimits from './plugins/external/rate-limit.js';
import openapi from './plugins/external/swagger.js';
import agents from './routes/agents.js';
import audit from './routes/audit.js';
import bundles from './routes/bundles.js';
import catalog from './routes/catalog.js';
import docs from './routes/docs.js';
import health from './routes/health.js';
import keys from './routes/keys.js';
import links from './routes/links.js';
import metricsRoute from './routes/metrics.js';
import orgs from './routes/orgs.js';
import session from './routes/session.js';
import ui from './routes/ui.js';
import wellKnown from './routes/well-known.js';

export interface BuildAppOptions {
  /** false: no logs; an object: pino options merged over ours (tests pass `{ stream }`). */
  readonly logger?: LoggerOption;
}

/**
 * Route plugins, in registration order. The catalog, bundle, link and download routes
 * (src/http/routes/{catalog,bundles,links,dl}.ts) join this list.
 */
const ROUTES: FastifyPluginAsync[] = [
  health,
  session,
  orgs,
  keys,
  audit,
  agents,
  catalog,
  bundles,
  links,
  wellKnown,
  metricsRoute,
  ui,
  docs,
];

/** Large enough for signed-link tokens (at most 512 characters) in a path segment. */
const MAX_PARAM_LENGTH = 1024;

/**
 * The HTTP application over opened services. Never listens (src/http/server.ts does), so tests
 * drive it with `app.inject`. Plugins load in tiers: third-party (security headers, cookies,
 * rate limits, OpenAPI), then our own capabilities (services, errors, metrics, auth), then routes.
 */
export async function buildApp(
  services: Services,
  config: AppConfig,
  options: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, options.logger),
    // A hop count or the proxies' addresses: Fastify (proxy-addr) then takes the right-most
    // X-Forwarded-For entry not added by a trusted proxy as request.ip (see config.ts).
    trustProxy: trustProxyOption(config.trustProxy),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const https = config.publicUrl.startsWith('https:');
  await app.register(securityHeaders, { https });
  await app.register(cookies);
  await app.register(rateLimits);
  await app.register(openapi, { publicUrl: config.publicUrl, version: packageVersion() });

  await app.register(servicesPlugin, { services });
  await app.register(errors);
  await app.register(metrics);
  await app.register(auth);

  for (const routes of ROUTES) await app.register(routes);
  return app;
}

/**
 * Fastify's own number form refuses every hop (it cannot check the peer), so a hop count is a
 * function: the socket and the next `hops - 1` addresses, read right to left, are proxies.
 */
function trustProxyOption(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return [...trust];
}

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const version = (pkg as { version?: unknown } | null)?.version;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
