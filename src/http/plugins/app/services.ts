import fp from 'fastify-plugin';
import type { Services } from '../../../services.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Stores, credentials, signing keys and (when wired) the bundle service. */
    services: Services;
  }
}

export default fp(
  async (app, options: { services: Services }) => {
    app.decorate('services', options.services);
  },
  { name: 'services', fastify: '5.x' },
);
