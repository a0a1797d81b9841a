import type { Services } from '../services.js';
import { actorOf, type Principal } from './principal.js';

export interface SampleRequest {
  readonly command: string;
  readonly method: 'GET';
  readonly url: string;
  /** False when a placeholder stands where the caller's own key would be. */
  readonly runnable: boolean;
  readonly note: string;
}

export const KEY_PLACEHOLDER = '<YOUR-PERSONAL-SERVICE-KEY>';

/**
 * A curl command that works as printed: the caller's own credentials (an API caller's headers as
 * sent; a signed-in user's personal service key) with the organization API key, against
 * `GET /api/v1/orgs/{orgId}/keys` at the public URL.
 */
export async function sampleRequest(
  services: Services,
  principal: Principal,
  orgId: string,
  headers: { authorization?: string; apiKey?: string },
): Promise<SampleRequest> {
  const url = `${services.config.publicUrl}/api/v1/orgs/${orgId}/keys`;
  let auth: string[];
  let runnable = true;
  if (principal.type === 'api' && headers.authorization !== undefined && headers.apiKey !== undefined) {
    auth = ['-H', `Authorization: ${headers.authorization}`, '-H', `API-Key: ${headers.apiKey}`];
  } else {
    const email = principal.type === 'agent' ? principal.userName : principal.user.email;
    const key =
      principal.type === 'agent'
        ? null
        : await services.credentials.personalServiceKey(principal.user.userId);
    runnable = key !== null;
    const { apiKey } = await services.credentials.getKeys(orgId, { viewedBy: actorOf(principal) });
    auth = ['-u', `${email}:${key ?? KEY_PLACEHOLDER}`, '-H', `API-Key: ${apiKey}`];
  }
  const command = ['curl', '-fsS', ...auth, url].map(shellQuote).join(' ');
  return {
    command,
    method: 'GET',
    url,
    runnable,
    note: runnable
      ? "Uses your own credentials: keep the command private. It prints this organization's current keys as JSON."
      : `Replace ${KEY_PLACEHOLDER} with your personal service key (shown once when your user was created).`,
  };
}

/** POSIX shell single-quoting; plain words stay bare. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
