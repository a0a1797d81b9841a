import { UsageError } from '../common/errors.js';
import { echo, isOrgId, printableTextProblem } from '../common/validate.js';

/** Organization names, slugs, e-mail addresses and the agent user name: validated before use. */

export const SLUG_MAX_LENGTH = 48;
const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const EMAIL = /^[^\s@:,;<>"()[\]\\]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

export function checkOrganizationName(name: string): string {
  const trimmed = name.trim();
  const problem = printableTextProblem(trimmed, 'an organization name');
  if (problem !== null) throw new UsageError(problem);
  return trimmed;
}

/** `Acme Corp.` -> `acme-corp`; accents dropped, runs of anything else become one dash. */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/^-+|-+$/g, '');
}

export function checkSlug(slug: string): string {
  if (slug.length > SLUG_MAX_LENGTH || !SLUG.test(slug) || slug.includes('--')) {
    throw new UsageError(
      `a slug must be 1 to ${SLUG_MAX_LENGTH} of a-z, 0-9 and single dashes, not at either end; found '${echo(slug)}'`,
    );
  }
  return slug;
}

/** Lower-cased and checked; a colon is refused because it would split the Authorization pair. */
export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (normalized.length > 254 || !EMAIL.test(normalized)) {
    throw new UsageError(`expected an e-mail address like name@example.com; found '${echo(email)}'`);
  }
  return normalized;
}

/** The user name the agent presents: `agent_<orgId>@<orgSlug>`. */
export function agentUserName(orgId: string, slug: string): string {
  return `agent_${orgId}@${slug}`;
}

export function parseAgentUserName(userName: string): { orgId: string; slug: string } | null {
  const match = /^agent_([0-9a-f-]{36})@([a-z0-9-]{1,48})$/.exec(userName);
  if (match === null || !isOrgId(match[1] as string)) return null;
  return { orgId: match[1] as string, slug: match[2] as string };
}
