import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ErrorCode } from '../../common/errors.js';
import type { User } from '../../credentials/types.js';
import type { Assets } from '../../ui/assets.js';
import { loadAssets } from '../../ui/assets.js';
import type { Viewer } from '../../ui/layout.js';
import { loginPage, logoutPage } from '../../ui/pages/auth.js';
import type { DownloadKind } from '../../ui/pages/download.js';
import { type OrgPageContext, orgApiPage, orgAuditPage, orgDownloadPage } from '../../ui/pages/org.js';
import {
  ERROR,
  FORBIDDEN_SYSTEM,
  NO_ORGS,
  NOT_FOUND,
  type StatusPage,
  statusPage,
} from '../../ui/pages/status.js';
import { catalogPage, systemApiPage } from '../../ui/pages/system.js';
import { describeError } from '../plugins/app/errors.js';
import { SESSION_COOKIE, type Session } from '../sessions.js';
import { type VisibleOrganization, visibleOrganizations } from '../visible-orgs.js';

interface SignedIn {
  readonly user: User;
  readonly session: Session;
  readonly orgs: VisibleOrganization[];
  readonly viewer: Viewer;
}

const OrgPageParams = Type.Object({ orgId: Type.String({ maxLength: 100 }) });
const IMMUTABLE = 'public, max-age=31536000, immutable';
const MAX_NEXT_LENGTH = 512;

/**
 * The web UI: server-rendered pages (src/ui) and their static assets. Pages carry no secret; their
 * scripts fetch keys from the JSON API after load and send the session's CSRF token on every
 * change. Every page answers `Cache-Control: no-store`. Someone else's organization is a 404 page.
 */
const ui: FastifyPluginAsyncTypebox = async (app) => {
  const { services } = app;
  const assets: Assets = await loadAssets();

  async function signedIn(request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | null> {
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie === undefined) return null;
    const session = await app.sessions.find(cookie);
    const user = session === null ? null : await services.credentials.getUser(session.userId);
    if (session === null || user === null) {
      app.clearSessionCookie(reply);
      return null;
    }
    const orgs = await visibleOrganizations(services, { type: 'session', user, session });
    const viewer: Viewer = {
      email: user.email,
      systemAdmin: user.systemAdmin,
      orgs: orgs.map(({ orgId, name, role }) => ({ orgId, name, role })),
    };
    return { user, session, orgs, viewer };
  }

  function sendHtml(reply: FastifyReply, status: number, body: string): FastifyReply {
    return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
  }

  function sendStatus(reply: FastifyReply, viewer: Viewer | null, page: StatusPage): FastifyReply {
    return sendHtml(reply, page.status, statusPage(assets, viewer, page));
  }

  function toLogin(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    return reply
      .header('cache-control', 'no-store')
      .redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
  }

  /** The signed-in person and the organization, or the answer already sent (login or 404). */
  async function orgPage(
    request: FastifyRequest,
    reply: FastifyReply,
    orgId: string,
  ): Promise<OrgPageContext | null> {
    const who = await signedIn(request, reply);
    if (who === null) {
      toLogin(request, reply);
      return null;
    }
    const org = who.orgs.find((candidate) => candidate.orgId === orgId);
    if (org === undefined) {
      sendStatus(reply, who.viewer, NOT_FOUND);
      return null;
    }
    return {
      assets,
      viewer: who.viewer,
      org: { orgId: org.orgId, name: org.name, role: org.role, agentUserName: org.agentUserName },
      now: services.now(),
    };
  }

  /** Pages answer HTML even when something fails. */
  app.setErrorHandler(async (error: unknown, request, reply) => {
    const answer = describeError(error);
    if (answer.status >= 500) request.log.error({ err: error }, 'page failed');
    if (request.url.startsWith('/static/')) return reply.code(answer.status).send(answer.body);
    const page = answer.status >= 500 ? ERROR : NOT_FOUND;
    return sendStatus(reply, null, page);
  });

  app.get(
    '/static/*',
    { schema: { hide: true, params: Type.Object({ '*': Type.String({ maxLength: 200 }) }) } },
    async (request, reply) => {
      const asset = assets.get(request.params['*']);
      if (asset === undefined)
        return reply
          .code(404)
          .send({ error: 'NOT_FOUND' satisfies ErrorCode, message: 'no such static file' });
      const query = request.query as { v?: unknown };
      reply
        .header('etag', asset.etag)
        .header('cache-control', query.v === asset.version ? IMMUTABLE : 'no-cache')
        .type(asset.type);
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    },
  );

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const who = await signedIn(request, reply);
    if (who === null) return reply.header('cache-control', 'no-store').redirect('/login', 303);
    const own =
      who.orgs.find((org) => who.user.memberships.some((m) => m.orgId === org.orgId)) ?? who.orgs[0];
    if (own !== undefined)
      return reply.header('cache-control', 'no-store').redirect(`/orgs/${own.orgId}/settings/api`, 303);
    if (who.user.systemAdmin)
      return reply.header('cache-control', 'no-store').redirect('/system/settings/api', 303);
    return sendStatus(reply, who.viewer, NO_ORGS);
  });

  app.get(
    '/login',
    {
      schema: {
        hide: true,
        querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2048 })) }),
      },
    },
    async (request, reply) => {
      const next = safeNext(request.query.next);
      if ((await signedIn(request, reply)) !== null) {
        return reply.header('cache-control', 'no-store').redirect(next ?? '/', 303);
      }
      return sendHtml(reply, 200, loginPage(assets, next));
    },
  );

  app.get('/logout', { schema: { hide: true } }, async (request, reply) => {
    const who = await signedIn(request, reply);
    return sendHtml(reply, 200, logoutPage(assets, who?.viewer ?? null));
  });

  app.get('/orgs/:orgId', { schema: { hide: true, params: OrgPageParams } }, async (request, reply) =>
    reply.redirect(`/orgs/${encodeURIComponent(request.params.orgId)}/settings/api`, 303),
  );

  app.get(
    '/orgs/:orgId/settings',
    { schema: { hide: true, params: OrgPageParams } },
    async (request, reply) =>
      reply.redirect(`/orgs/${encodeURIComponent(request.params.orgId)}/settings/api`, 303),
  );

  app.get(
    '/orgs/:orgId/settings/api',
    { schema: { hide: true, params: OrgPageParams } },
    async (request, reply) => {
      const context = await orgPage(request, reply, request.params.orgId);
      return context === null ? reply : sendHtml(reply, 200, orgApiPage(context));
    },
  );

  app.get(
    '/orgs/:orgId/download',
    { schema: { hide: true, params: OrgPageParams } },
    async (request, reply) => {
      const context = await orgPage(request, reply, request.params.orgId);
      if (context === null) return reply;
      return sendHtml(reply, 200, orgDownloadPage(context, await catalogKinds(false)));
    },
  );

  app.get(
    '/orgs/:orgId/settings/audit',
    { schema: { hide: true, params: OrgPageParams } },
    async (request, reply) => {
      const context = await orgPage(request, reply, request.params.orgId);
      if (context === null) return reply;
      return sendHtml(reply, context.org.role === 'admin' ? 200 : 403, orgAuditPage(context));
    },
  );

  app.get('/system/settings', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/system/settings/api', 303),
  );

  app.get(
    '/system/settings/api',
    {
      schema: {
        hide: true,
        querystring: Type.Object({ org: Type.Optional(Type.String({ maxLength: 100 })) }),
      },
    },
    async (request, reply) => {
      const who = await signedIn(request, reply);
      if (who === null) return toLogin(request, reply);
      if (!who.user.systemAdmin) return sendStatus(reply, who.viewer, FORBIDDEN_SYSTEM);
      const asked = request.query.org ?? null;
      const chosen =
        asked === null ? (who.orgs[0] ?? null) : (who.orgs.find((org) => org.orgId === asked) ?? null);
      const context = { assets, viewer: who.viewer, now: services.now() };
      return sendHtml(
        reply,
        chosen === null && asked !== null ? 404 : 200,
        systemApiPage(context, who.orgs, chosen, asked),
      );
    },
  );

  app.get('/system/catalog', { schema: { hide: true } }, async (request, reply) => {
    const who = await signedIn(request, reply);
    if (who === null) return toLogin(request, reply);
    if (!who.user.systemAdmin) return sendStatus(reply, who.viewer, FORBIDDEN_SYSTEM);
    const context = { assets, viewer: who.viewer, now: services.now() };
    return sendHtml(reply, 200, catalogPage(context, await catalogKinds(true)));
  });

  function catalogKinds(includeWithdrawn: boolean): Promise<DownloadKind[]> {
    return services.bundles.catalog.list({ includeWithdrawn });
  }
};

/** Only a path on this site: `/x`, never `//host` or `/\host`, and nothing odd in it. */
function safeNext(value: string | undefined): string | null {
  if (value === undefined || value.length > MAX_NEXT_LENGTH) return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (!value.startsWith('/') || /^\/[/\\]/.test(value) || /[\u0000-\u001f\u007f\s]/.test(value)) return null;
  return value;
}

export default ui;
