import { type TSchema, Type } from 'typebox';
import { KEY_PURPOSES } from '../../common/validate.js';

/** Every error answer: a stable code and a message that says what was expected and what was found. */
export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'stable code, e.g. NOT_FOUND, BAD_REQUEST, UNAUTHENTICATED' }),
    message: Type.String(),
  },
  { description: 'An error' },
);

const REASONS: Readonly<Record<number, string>> = {
  400: 'Malformed input (id, body, query)',
  401: 'Missing or invalid credentials',
  403: 'Not allowed (role, CSRF token, tampered or expired link)',
  404: 'No such object, or it belongs to another organization',
  409: 'Conflicts with the current state',
  410: 'Gone: the keys the bundle embeds have expired (or its base left the catalog)',
  413: 'Too large',
  416: 'Range not satisfiable',
  422: 'Rejected content',
  429: 'Too many requests or failed authentications',
  500: 'Internal error (details only in the log)',
  503: 'The database or blob store is unavailable (see Retry-After), or the service is not ready',
  507: 'No space left to store it',
};

/** Response schemas for the given error statuses, for a route's `schema.response`. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) {
    out[status] = Type.Object(ErrorBody.properties, { description: REASONS[status] ?? 'Error' });
  }
  return out;
}

/** Statuses every authenticated /api route can answer. */
export const AUTHENTICATED_ERRORS = [400, 401, 403, 404, 429, 503] as const;

export const OrgIdParams = Type.Object({
  orgId: Type.String({ description: 'organization id (UUID)', maxLength: 100 }),
});

export const KeyWhichSchema = Type.Enum(KEY_PURPOSES, {
  description: 'which organization key',
});

export const OrgRoleSchema = Type.Enum(['admin', 'member']);

export const OrganizationSchema = Type.Object({
  orgId: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  agentUserName: Type.String({ description: 'agent_<orgId>@<slug>' }),
  createdAt: Type.String({ description: 'ISO-8601 UTC' }),
});

/** An organization as the caller sees it: with the caller's role there. */
export const VisibleOrganizationSchema = Type.Object({
  ...OrganizationSchema.properties,
  role: Type.Enum(['admin', 'member'], { description: 'your role (system admins: admin everywhere)' }),
});
