import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  type AgentpackError,
  BadRequestError,
  NotFoundError,
  RateLimitedError,
} from '../../../common/errors.js';
import { orgIdProblem } from '../../../common/validate.js';
import { parseBasicPair, singleHeader } from '../../../credentials/basic-auth.js';
import { parseKey } from '../../../credentials/key-format.js';
import { parseAgentUserName } from '../../../credentials/names.js';
import { clientKey } from '../../client.js';
import { FailureAudit } from '../../failure-audit.js';
import { AuthFailureCounter } from '../../failure-limiter.js';
import {
  type AccessLevel,
  AGENT_AUTH_MESSAGE,
  type AgentRequestPrincipal,
  API_AUTH_MESSAGE,
  type ApiPrincipal,
  actorOf,
  forbidden,
  type OrgAccess,
  type Principal,
  type SessionPrincipal,
  unauthenticated,
} from '../../principal.js';
import { csrfMatches, SESSION_COOKIE, Sessions } from '../../sessions.js';

/** Which failures are counted (metrics label `kind`). */
export type AuthFailureKind = 'agent' | 'personal' | 'session' | 'password' | 'csrf' | 'link';

declare module 'fastify' {
  interface FastifyRequest {
    /** Resolved before validation on /api/* and /agents/v1/*; null when none was presented. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    sessions: Sessions;
    /** The principal, or 401. */
    requirePrincipal(request: FastifyRequest): Principal;
    /**
     * The caller's access to `orgId`: 400 for a malformed id, 401 without credentials, 404 for an
     * organization the caller cannot see (or that does not exist), 403 when `level` is not met.
     */
    requireOrgAccess(request: FastifyRequest, orgId: string, level: AccessLevel): Promise<OrgAccess>;
    /** A person with the system admin role, or 401/403. */
    requireSystemAdmin(request: FastifyRequest): SessionPrincipal | ApiPrincipal;
    /**
     * Counts a failed authentication (metrics, failure limits, an aggregated audit row) and
     * returns what to throw: 429 when the client or `account` was already over its limit, else
     * `error`. `account` names who the attempt was for (see `accountOf*`), when anyone.
     */
    rejectAuth(
      request: FastifyRequest,
      kind: AuthFailureKind,
      error: AgentpackError,
      account?: string | null,
    ): Promise<AgentpackError>;
    /** 429 when the client or `account` is over its failure limit: call before checking a password. */
    checkAuthFailures(request: FastifyRequest, account: string | null): void;
    /** Clears the session cookie on a reply. */
    clearSessionCookie(reply: FastifyReply): void;
  }
  interface FastifyContextConfig {
    /** `login`: the session login route (no cookie resolution, no CSRF, but failure-limited). */
    auth?: 'login';
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Resolves `request.principal` in onRequest, before any body is read. Agents authenticate only on
 * /agents/v1/* (every request there must); people use a session cookie or API headers on /api/*.
 * Presented credentials that fail answer 401 with one message whatever the cause, are counted,
 * audited and rate-limited per address (429 once over the limit). Cookie-authenticated requests
 * that change state need the session's X-CSRF-Token.
 */
export default fp(
  async (app) => {
    const { services } = app;
    const limits = services.config.requestLimits;
    const failures = new AuthFailureCounter(
      {
        perAccount: limits.authFailuresPerAccount,
        perClient: limits.authFailuresPerClient,
        windowMs: limits.authFailureWindowSeconds * 1000,
      },
      services.now,
    );
    const failureAudit = new FailureAudit(services.now);
    const secureCookie = services.config.publicUrl.startsWith('https:');
    app.decorate('sessions', new Sessions(services.store, services.linkKey, services.now));
    app.decorateRequest('principal', null);

    function refusal(blocked: { seconds: number; by: 'account' | 'client' }): RateLimitedError {
      services.metrics.rateLimited.inc({ limit: `auth-${blocked.by}` });
      const whose = blocked.by === 'account' ? 'for this account' : 'from this address';
      return new RateLimitedError(
        `too many failed authentications ${whose}; retry in ${blocked.seconds} s`,
        blocked.seconds,
      );
    }

    function checkAuthFailures(request: FastifyRequest, account: string | null): void {
      const blocked = failures.blocked(clientKey(request.ip), account);
      if (blocked !== null) throw refusal(blocked);
    }

    async function rejectAuth(
      request: FastifyRequest,
      kind: AuthFailureKind,
      error: AgentpackError,
      account: string | null = null,
    ): Promise<AgentpackError> {
      const client = clientKey(request.ip);
      // Over the limit already: refused without counting, so hammering a locked account never
      // pushes its client over the client limit too.
      const blocked = failures.blocked(client, account);
      if (blocked === null) failures.hit(client, account);
      services.metrics.authFailures.inc({ kind });
      const keyIds = presentedKeyIds(request);
      request.log.info({ kind, keyIds }, 'authentication failed');
      try {
        const orgId = kind === 'link' ? null : await services.credentials.verifiedApiKeyOrg(request.headers);
        const due = failureAudit.admit(`${client}|${kind}|${orgId ?? ''}`);
        if (due !== null) {
          await services.credentials.audit({
            orgId,
            actor: `ip:${request.ip}`,
            action: 'auth.failed',
            keyId: keyIds[0] ?? null,
            detail: {
              kind,
              method: request.method,
              route: request.routeOptions.url ?? 'unmatched',
              keyIds,
              ...(due.unrecorded > 0 ? { unrecorded: due.unrecorded } : {}),
            },
          });
        }
      } catch (auditError) {
        request.log.warn({ err: auditError }, 'could not audit a failed authentication');
      }
      return blocked === null ? error : refusal(blocked);
    }

    const clearSessionCookie = (reply: FastifyReply): void => {
      reply.clearCookie(SESSION_COOKIE, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: secureCookie,
      });
    };

    async function agentPrincipal(request: FastifyRequest): Promise<AgentRequestPrincipal> {
      const agent = await services.credentials.authenticateAgent(request.headers);
      if (agent === null) {
        throw await rejectAuth(request, 'agent', unauthenticated(AGENT_AUTH_MESSAGE), agentAccount(request));
      }
      return { ...agent, type: 'agent' };
    }

    async function apiPrincipal(request: FastifyRequest): Promise<ApiPrincipal> {
      const personal = await services.credentials.authenticatePersonal(request.headers);
      if (personal === null) {
        throw await rejectAuth(
          request,
          'personal',
          unauthenticated(API_AUTH_MESSAGE),
          personalAccount(request),
        );
      }
      const { userId, email, systemAdmin, orgId, role, keyIds } = personal;
      return { type: 'api', user: { userId, email, systemAdmin }, orgId, role, keyIds };
    }

    async function sessionPrincipal(
      request: FastifyRequest,
      reply: FastifyReply,
      cookie: string,
    ): Promise<SessionPrincipal> {
      const session = await app.sessions.find(cookie);
      const user = session === null ? null : await services.credentials.getUser(session.userId);
      if (session === null || user === null) {
        clearSessionCookie(reply);
        throw await rejectAuth(request, 'session', unauthenticated(API_AUTH_MESSAGE));
      }
      return { type: 'session', user, session };
    }

    app.addHook('onRequest', async (request, reply) => {
      const area = areaOf(request.routeOptions.url);
      if (area === undefined) return;
      const login = request.routeOptions.config.auth === 'login';
      const headers = hasHeaderCredentials(request);
      const cookie = request.cookies[SESSION_COOKIE];
      if (area === 'api' && !headers && cookie === undefined && !login) return;
      // Keys and sessions are checked even from a client over its failure limit (a digest
      // lookup, no password work): valid ones pass, so one misconfigured job behind a shared
      // address never locks out the rest; failures answer 429 instead of 401 (rejectAuth).
      if (area === 'agents') {
        request.principal = await agentPrincipal(request);
        return;
      }
      if (login) return;
      if (headers) {
        request.principal = await apiPrincipal(request);
        return;
      }
      const principal = await sessionPrincipal(request, reply, cookie ?? '');
      if (!SAFE_METHODS.has(request.method) && !csrfMatches(principal.session, csrfHeader(request))) {
        services.metrics.authFailures.inc({ kind: 'csrf' });
        throw forbidden(
          'expected the X-CSRF-Token header of this session on a request that changes state (GET /api/v1/session returns it)',
        );
      }
      request.principal = principal;
    });

    // Authenticated answers may hold keys or tokens: no cache keeps them unless a route says otherwise.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (areaOf(request.routeOptions.url) !== undefined && !reply.hasHeader('cache-control')) {
        reply.header('cache-control', 'no-store');
      }
      done(null, payload);
    });

    function requirePrincipal(request: FastifyRequest): Principal {
      if (request.principal === null) {
        throw unauthenticated(
          areaOf(request.routeOptions.url) === 'agents' ? AGENT_AUTH_MESSAGE : API_AUTH_MESSAGE,
        );
      }
      return request.principal;
    }

    async function requireOrgAccess(
      request: FastifyRequest,
      orgId: string,
      level: AccessLevel,
    ): Promise<OrgAccess> {
      const principal = requirePrincipal(request);
      const badId = orgIdProblem(orgId);
      if (badId !== null) throw new BadRequestError('BAD_REQUEST', badId);
      const hidden = new NotFoundError(`no organization ${orgId}`);
      let role: 'admin' | 'member' | null;
      let systemAdmin = false;
      if (principal.type === 'agent') {
        if (principal.orgId !== orgId) throw hidden;
        role = 'member';
      } else if (principal.type === 'api') {
        // The API key scopes the request to its organization, even for a system admin.
        if (principal.orgId !== orgId) throw hidden;
        systemAdmin = principal.user.systemAdmin;
        role = systemAdmin ? 'admin' : principal.role;
      } else {
        systemAdmin = principal.user.systemAdmin;
        role = systemAdmin ? 'admin' : await services.credentials.roleIn(principal.user.userId, orgId);
      }
      if (role === null || (await services.store.findOrganizationById(orgId)) === undefined) throw hidden;
      if (level === 'admin' && role !== 'admin') {
        throw forbidden(`this needs the admin role in organization ${orgId}; you are a ${role}`);
      }
      return { orgId, role, systemAdmin, actor: actorOf(principal), principal };
    }

    function requireSystemAdmin(request: FastifyRequest): SessionPrincipal | ApiPrincipal {
      const principal = requirePrincipal(request);
      if (principal.type === 'agent' || !principal.user.systemAdmin) {
        throw forbidden('this needs the system admin role');
      }
      return principal;
    }

    app.decorate('requirePrincipal', requirePrincipal);
    app.decorate('requireOrgAccess', requireOrgAccess);
    app.decorate('requireSystemAdmin', requireSystemAdmin);
    app.decorate('rejectAuth', rejectAuth);
    app.decorate('checkAuthFailures', checkAuthFailures);
    app.decorate('clearSessionCookie', clearSessionCookie);
  },
  { name: 'auth', dependencies: ['services', 'metrics', '@fastify/cookie'], fastify: '5.x' },
);

function areaOf(route: string | undefined): 'api' | 'agents' | undefined {
  if (route === undefined) return undefined;
  if (route.startsWith('/agents/v1/')) return 'agents';
  if (route.startsWith('/api/')) return 'api';
  return undefined;
}

function hasHeaderCredentials(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined || request.headers['api-key'] !== undefined;
}

/** The failure-limit account of a sign-in: its e-mail as accounts are looked up. */
export function emailAccount(email: string): string {
  return `email:${email.trim().toLowerCase().slice(0, 254)}`;
}

function personalAccount(request: FastifyRequest): string | null {
  const pair = parseBasicPair(singleHeader(request.headers, 'authorization'));
  return pair === null || pair.user === '' ? null : emailAccount(pair.user);
}

/** Agents are counted per organization they name (the count only turns their 401s into 429s). */
function agentAccount(request: FastifyRequest): string | null {
  const pair = parseBasicPair(singleHeader(request.headers, 'authorization'));
  const agent = parseAgentUserName(pair?.user ?? '');
  return agent === null ? null : `agent:${agent.orgId}`;
}

function csrfHeader(request: FastifyRequest): string | undefined {
  const value = request.headers['x-csrf-token'];
  return typeof value === 'string' ? value : undefined;
}

/** Key ids (never keys) found in the credential headers, for logs and the audit. */
function presentedKeyIds(request: FastifyRequest): string[] {
  const pair = parseBasicPair(singleHeader(request.headers, 'authorization'));
  const candidates = [singleHeader(request.headers, 'api-key'), pair?.key ?? null];
  return candidates.flatMap((text) => {
    const key = text === null ? null : parseKey(text);
    return key === null ? [] : [key.keyId];
  });
}
