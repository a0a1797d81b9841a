import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Over https only: a year, subdomains included. */
const HSTS = { 'strict-transport-security': 'max-age=31536000; includeSubDomains' };

/**
 * The security headers of every answer, as one fixed table built at start: they depend on
 * nothing but whether the public URL is https, so nothing is computed per request. The CSP
 * allows scripts, styles and fonts from this origin only (no inline script, no CDN): the UI and
 * /docs serve their own assets. HSTS and upgrade-insecure-requests only over https.
 */
export function securityHeaders(https: boolean): Readonly<Record<string, string>> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(https ? ['upgrade-insecure-requests'] : []),
  ].join(';');
  return Object.freeze({
    'content-security-policy': csp,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    ...(https ? HSTS : {}),
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  });
}

/**
 * For `/agents/v1/*`, which only machines call and whose answers are small JSON documents: the
 * set OWASP recommends for REST APIs (no framing, no sniffing, no referrer, HSTS over https).
 * The browser policies of the full set mean nothing there, and the handshake is the busiest route.
 */
export function agentApiHeaders(https: boolean): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-security-policy': "default-src 'none';frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    ...(https ? HSTS : {}),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  });
}

export default fp(
  async (app: FastifyInstance, options: { https: boolean }) => {
    const full = securityHeaders(options.https);
    const agents = agentApiHeaders(options.https);
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(request.routeOptions.url?.startsWith('/agents/v1/') === true ? agents : full);
      done();
    });
  },
  { name: 'security-headers', fastify: '5.x' },
);
