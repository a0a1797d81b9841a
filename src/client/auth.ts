import { UsageError } from '../common/errors.js';

/**
 * Header authentication from the environment, as the API expects it:
 * `Authorization: base64(<email>:<personal service key>)` and `API-Key: <organization API key>`.
 * The values never appear in a message; `secrets` lists them so printed text can be scrubbed.
 */
export interface Credentials {
  readonly headers: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `AGENTPACK_AUTH` is `email:serviceKey` (encoded here) or its base64 (with or without a
 * `Basic ` scheme); `AGENTPACK_API_KEY` is the organization API key. Undefined when neither
 * is set; a UsageError when only one is, or one is malformed.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials | undefined {
  const auth = env.AGENTPACK_AUTH?.trim() ?? '';
  const apiKey = env.AGENTPACK_API_KEY?.trim() ?? '';
  if (auth === '' && apiKey === '') return undefined;
  if (auth === '')
    throw new UsageError('AGENTPACK_API_KEY is set but AGENTPACK_AUTH is not: set it to email:serviceKey');
  if (apiKey === '')
    throw new UsageError(
      'AGENTPACK_AUTH is set but AGENTPACK_API_KEY is not: set it to the organization API key',
    );
  const { encoded, serviceKey } = encodeAuth(auth);
  if (/[\s\p{Cc}]/u.test(apiKey))
    throw new UsageError('AGENTPACK_API_KEY: expected an API key, found whitespace or control characters');
  const prefix = /^(aps|apu)_/.exec(apiKey)?.[1];
  if (prefix !== undefined)
    throw new UsageError(
      `AGENTPACK_API_KEY holds a ${prefix}_ key; expected the organization API key (apo_...). ` +
        'The personal service key goes into AGENTPACK_AUTH as email:serviceKey',
    );
  return {
    headers: { authorization: encoded, 'api-key': apiKey },
    secrets: [apiKey, encoded, auth, serviceKey].filter((s) => s.length >= 4),
  };
}

function encodeAuth(value: string): { encoded: string; serviceKey: string } {
  if (value.includes(':')) {
    const colon = value.indexOf(':');
    if (colon === 0 || colon === value.length - 1 || /[\p{Cc}]/u.test(value))
      throw new UsageError('AGENTPACK_AUTH: expected email:serviceKey with both parts non-empty');
    return { encoded: Buffer.from(value, 'utf8').toString('base64'), serviceKey: value.slice(colon + 1) };
  }
  const encoded = value.replace(/^Basic\s+/i, '');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0 || colon <= 0 || colon === decoded.length - 1)
    throw new UsageError('AGENTPACK_AUTH: expected email:serviceKey or its base64, found neither');
  return { encoded, serviceKey: decoded.slice(colon + 1) };
}

/** Replaces every secret (and a link token) in text that came from outside with `…`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('…');
  return out;
}
