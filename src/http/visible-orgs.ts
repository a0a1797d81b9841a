import type { Organization, OrgRole } from '../credentials/types.js';
import type { Services } from '../services.js';
import type { Principal } from './principal.js';

export interface VisibleOrganization extends Organization {
  readonly role: OrgRole;
}

/**
 * The organizations a principal may see: a system admin signed in with a session sees all;
 * other people see their memberships; an API or agent principal sees the organization whose
 * key it presented.
 */
export async function visibleOrganizations(
  services: Services,
  principal: Principal,
): Promise<VisibleOrganization[]> {
  const { credentials } = services;
  if (principal.type === 'session' && principal.user.systemAdmin) {
    return (await credentials.listOrganizations()).map((org) => ({ ...org, role: 'admin' as const }));
  }
  const wanted: { orgId: string; role: OrgRole }[] =
    principal.type === 'session'
      ? principal.user.memberships
      : principal.type === 'api'
        ? [
            {
              orgId: principal.orgId,
              role: principal.user.systemAdmin ? 'admin' : (principal.role ?? 'member'),
            },
          ]
        : [{ orgId: principal.orgId, role: 'member' }];
  const found = await Promise.all(
    wanted.map(async ({ orgId, role }) => {
      const org = await credentials.getOrganization(orgId);
      return org === null ? [] : [{ ...org, role }];
    }),
  );
  return found.flat().sort((a, b) => a.name.localeCompare(b.name) || a.orgId.localeCompare(b.orgId));
}
