import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { emailAccount } from '../plugins/app/auth.js';
import { requestLimit } from '../plugins/external/rate-limit.js';
import { type SessionPrincipal, unauthenticated } from '../principal.js';
import { errorResponses, VisibleOrganizationSchema } from '../schemas/common.js';
import { SESSION_COOKIE, SESSION_TTL_MS } from '../sessions.js';
import { visibleOrganizations } from '../visible-orgs.js';

const SessionInfo = Type.Object({
  user: Type.Object({ userId: Type.String(), email: Type.String(), systemAdmin: Type.Boolean() }),
  csrfToken: Type.String({ description: 'send as X-CSRF-Token on every request that changes state' }),
  expiresAt: Type.String({ description: 'ISO-8601 UTC' }),
  orgs: Type.Array(VisibleOrganizationSchema),
});

const LOGIN_FAILED = 'invalid e-mail or password';

/** Session login for the web UI: a cookie (HttpOnly, SameSite=Strict) plus a CSRF token. */
const session: FastifyPluginAsyncTypebox = async (app) => {
  const { services } = app;
  const secure = services.config.publicUrl.startsWith('https:');

  async function info(principal: SessionPrincipal) {
    const { userId, email, systemAdmin } = principal.user;
    return {
      user: { userId, email, systemAdmin },
      csrfToken: principal.session.csrfToken,
      expiresAt: new Date(principal.session.expiresAt).toISOString(),
      orgs: await visibleOrganizations(services, principal),
    };
  }

  function requireSession(principal: ReturnType<typeof app.requirePrincipal>): SessionPrincipal {
    if (principal.type !== 'session')
      throw unauthenticated('expected a session cookie (POST /api/v1/session)');
    return principal;
  }

  app.post(
    '/api/v1/session',
    {
      config: { auth: 'login', rateLimit: requestLimit(services, 'signins') },
      schema: {
        tags: ['session'],
        summary: 'Log in with e-mail and password; sets the session cookie',
        body: Type.Object({
          email: Type.String({ minLength: 1, maxLength: 254 }),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        response: { 200: SessionInfo, ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      // Refused before any scrypt work when this account or client is over its failure limit.
      const account = emailAccount(request.body.email);
      app.checkAuthFailures(request, account);
      const user = await services.credentials.verifyPassword(request.body.email, request.body.password);
      if (user === null)
        throw await app.rejectAuth(request, 'password', unauthenticated(LOGIN_FAILED), account);
      const { id, session: created } = await app.sessions.create(user.userId);
      reply.setCookie(SESSION_COOKIE, id, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure,
        maxAge: SESSION_TTL_MS / 1000,
      });
      await services.credentials.audit({
        orgId: null,
        actor: `user:${user.email}`,
        action: 'session.created',
        detail: { userId: user.userId, ip: request.ip },
      });
      return info({ type: 'session', user, session: created });
    },
  );

  app.get(
    '/api/v1/session',
    {
      schema: {
        tags: ['session'],
        summary: 'The signed-in user, the CSRF token and the organizations they see',
        response: { 200: SessionInfo, ...errorResponses(401, 429) },
      },
    },
    async (request) => info(requireSession(app.requirePrincipal(request))),
  );

  app.delete(
    '/api/v1/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Log out (needs X-CSRF-Token)',
        response: { 204: Type.Null({ description: 'Logged out' }), ...errorResponses(401, 403, 429) },
      },
    },
    async (request, reply) => {
      const principal = requireSession(app.requirePrincipal(request));
      await app.sessions.delete(principal.session.idHash);
      app.clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );
};

export default session;
