import { type AgentpackError, ForbiddenError, UnauthenticatedError } from '../common/errors.js';
import type { AgentPrincipal, OrgRole, User } from '../credentials/types.js';
import type { Session } from './sessions.js';

/** Who made a request. Agents exist only on /agents/v1/*; sessions and API keys only on /api/*. */
export type Principal = SessionPrincipal | ApiPrincipal | AgentRequestPrincipal;

export interface SessionPrincipal {
  readonly type: 'session';
  readonly user: User;
  readonly session: Session;
}

/** A person or CI: personal service key + the organization API key that scopes the request. */
export interface ApiPrincipal {
  readonly type: 'api';
  readonly user: { readonly userId: string; readonly email: string; readonly systemAdmin: boolean };
  readonly orgId: string;
  /** Null for a system admin who is not a member of that organization. */
  readonly role: OrgRole | null;
  readonly keyIds: { readonly apiKey: string; readonly serviceKey: string };
}

/** An agent, as credentials authenticated it, tagged for the union above. */
export interface AgentRequestPrincipal extends AgentPrincipal {
  readonly type: 'agent';
}

/** What a guard grants: the organization and the caller's effective role in it. */
export interface OrgAccess {
  readonly orgId: string;
  readonly role: OrgRole;
  readonly systemAdmin: boolean;
  /** For the audit log: `user:<email>` or `agent:<slug>`. */
  readonly actor: string;
  readonly principal: Principal;
}

export type AccessLevel = 'member' | 'admin';

export function actorOf(principal: Principal): string {
  return principal.type === 'agent' ? `agent:${principal.orgSlug}` : `user:${principal.user.email}`;
}

export function unauthenticated(message: string): AgentpackError {
  return new UnauthenticatedError(message);
}

export function forbidden(message: string): AgentpackError {
  return new ForbiddenError(message);
}

export const AGENT_AUTH_MESSAGE =
  'authentication failed: expected valid agent credentials in Authorization and the organization API key in API-Key';
export const API_AUTH_MESSAGE =
  'authentication failed: expected a session cookie, or Authorization (e-mail and personal service key) with the organization API key in API-Key';
