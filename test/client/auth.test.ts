import { describe, expect, it } from 'vitest';
import { credentialsFromEnv, scrub } from '../../src/client/auth.js';

const serviceKey = 'apu_AbCdEfGhIjKl_abcdefghijklmnopqrstuvwx123456';
const apiKey = 'apo_ZyXwVuTsRqPo_abcdefghijklmnopqrstuvwx654321';
const encoded = Buffer.from(`ci@acme.example:${serviceKey}`).toString('base64');

describe('credentialsFromEnv', () => {
  it('encodes email:serviceKey and sends the API key as API-Key', () => {
    const credentials = credentialsFromEnv({
      AGENTPACK_AUTH: `ci@acme.example:${serviceKey}`,
      AGENTPACK_API_KEY: apiKey,
    });
    expect(credentials?.headers).toEqual({ authorization: encoded, 'api-key': apiKey });
  });

  it('takes an already encoded value, with or without the Basic scheme', () => {
    for (const value of [encoded, `Basic ${encoded}`])
      expect(
        credentialsFromEnv({ AGENTPACK_AUTH: value, AGENTPACK_API_KEY: apiKey })?.headers.authorization,
      ).toBe(encoded);
  });

  it('lists every form of the secrets for scrubbing', () => {
    const credentials = credentialsFromEnv({ AGENTPACK_AUTH: encoded, AGENTPACK_API_KEY: apiKey });
    expect(credentials?.secrets).toEqual(expect.arrayContaining([apiKey, encoded, serviceKey]));
  });

  it('is undefined when neither variable is set, or both are blank', () => {
    expect(credentialsFromEnv({})).toBeUndefined();
    expect(credentialsFromEnv({ AGENTPACK_AUTH: ' ', AGENTPACK_API_KEY: '' })).toBeUndefined();
  });

  it('names the missing half', () => {
    expect(() => credentialsFromEnv({ AGENTPACK_API_KEY: apiKey })).toThrow(
      'AGENTPACK_API_KEY is set but AGENTPACK_AUTH is not: set it to email:serviceKey',
    );
    expect(() => credentialsFromEnv({ AGENTPACK_AUTH: encoded })).toThrow(
      'AGENTPACK_AUTH is set but AGENTPACK_API_KEY is not: set it to the organization API key',
    );
  });

  it('refuses malformed values without echoing them', () => {
    for (const value of ['not base64!', Buffer.from('no-colon').toString('base64'), ':key', 'user:']) {
      let message = '';
      try {
        credentialsFromEnv({ AGENTPACK_AUTH: value, AGENTPACK_API_KEY: apiKey });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^AGENTPACK_AUTH: expected email:serviceKey/);
      expect(message).not.toContain(value);
    }
  });

  it('refuses service keys given as the organization API key', () => {
    expect(() => credentialsFromEnv({ AGENTPACK_AUTH: encoded, AGENTPACK_API_KEY: serviceKey })).toThrow(
      /^AGENTPACK_API_KEY holds a apu_ key; expected the organization API key \(apo_\.\.\.\)/,
    );
    expect(() => credentialsFromEnv({ AGENTPACK_AUTH: encoded, AGENTPACK_API_KEY: 'apo_a b' })).toThrow(
      'AGENTPACK_API_KEY: expected an API key, found whitespace or control characters',
    );
  });
});

describe('scrub', () => {
  it('replaces every occurrence of every secret', () => {
    expect(scrub(`a ${apiKey} b ${apiKey} c ${serviceKey}`, [apiKey, serviceKey])).toBe('a … b … c …');
  });
});
