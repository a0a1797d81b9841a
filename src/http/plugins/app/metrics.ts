import fp from 'fastify-plugin';
import type { Metrics } from '../../../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Counters others increment: `app.metrics.downloads.inc({ format: 'jar' })`. */
    metrics: Metrics;
  }
}

/** Decorates `metrics` (the services' registry) and counts every answered request by route pattern. */
export default fp(
  async (app) => {
    app.decorate('metrics', app.services.metrics);
    app.addHook('onResponse', (request, reply, done) => {
      app.metrics.httpRequests.inc({
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      });
      done();
    });
  },
  { name: 'metrics', dependencies: ['services'], fastify: '5.x' },
);
