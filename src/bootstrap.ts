import { randomBytes } from 'node:crypto';
import { ConflictError } from './common/errors.js';
import type { Organization } from './credentials/types.js';
import type { Services } from './services.js';

export const DEMO_ORG = { name: 'Demo', slug: 'demo' } as const;
const ACTOR = 'system:bootstrap';

export interface BootstrapResult {
  /** Set only on the start that created the admin: the one time its password is known. */
  readonly admin?: { readonly email: string; readonly password: string };
  readonly demo: { readonly org: Organization; readonly created: boolean };
}

/**
 * First start (and, idempotently, every start): the demo organization, a system admin with a
 * random one-time password (returned only when created, never logged), then the sample agents.
 * Safe when two instances start together: a lost creation race reads the winner's result.
 */
export async function bootstrap(services: Services): Promise<BootstrapResult> {
  const { credentials } = services;
  const demo = await ensureDemoOrganization(services);
  const email = services.config.adminEmail;
  let admin: BootstrapResult['admin'];
  if ((await credentials.getUser(email)) === null) {
    const password = randomBytes(18).toString('base64url');
    try {
      await credentials.addUser(
        { email, orgId: demo.org.orgId, role: 'admin', password, systemAdmin: true },
        ACTOR,
      );
      admin = { email, password };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  await services.bundles.loadFixtures();
  return { ...(admin === undefined ? {} : { admin }), demo };
}

async function ensureDemoOrganization(services: Services): Promise<BootstrapResult['demo']> {
  const { credentials } = services;
  const existing = await credentials.getOrganization(DEMO_ORG.slug);
  if (existing !== null) return { org: existing, created: false };
  let created = false;
  try {
    await credentials.createOrganization(DEMO_ORG.name, { slug: DEMO_ORG.slug, actor: ACTOR });
    created = true;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
  const org = await credentials.getOrganization(DEMO_ORG.slug);
  if (org === null) throw new ConflictError(`organization '${DEMO_ORG.slug}' could not be created`);
  return { org, created };
}
