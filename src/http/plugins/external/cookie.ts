import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Cookie parsing; session cookies are random ids checked server-side, so they need no signing secret. */
export default fp(
  async (app: FastifyInstance) => {
    await app.register(cookie, { hook: 'onRequest' });
  },
  { name: 'cookies', fastify: '5.x' },
);
