import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bundleIdentity } from '../../src/bundles/identity.js';

const key = randomBytes(32);
const inputs = {
  orgId: 'org-1',
  kind: 'java',
  version: '1.0.0',
  baseSha256: 'b'.repeat(64),
  templateSha256: 't'.repeat(64),
  keyVersions: { 'api-key': 1, 'agent-service-key': 1 },
  settings: { 'api.url': 'https://x', 'proxy.host': 'p' },
};

describe('bundleIdentity', () => {
  it('is stable whatever the order of keys', () => {
    const reordered = {
      ...inputs,
      settings: { 'proxy.host': 'p', 'api.url': 'https://x' },
      keyVersions: { 'agent-service-key': 1, 'api-key': 1 },
    };
    expect(bundleIdentity(reordered, key)).toBe(bundleIdentity(inputs, key));
  });

  it('changes when a key version, the base or a setting changes', () => {
    const id = bundleIdentity(inputs, key);
    expect(
      bundleIdentity({ ...inputs, keyVersions: { 'api-key': 2, 'agent-service-key': 1 } }, key),
    ).not.toBe(id);
    expect(bundleIdentity({ ...inputs, baseSha256: 'c'.repeat(64) }, key)).not.toBe(id);
    expect(bundleIdentity({ ...inputs, settings: { ...inputs.settings, 'proxy.host': 'q' } }, key)).not.toBe(
      id,
    );
  });

  it('depends on the service key, so an id cannot be recomputed from guessed inputs', () => {
    expect(bundleIdentity(inputs, randomBytes(32))).not.toBe(bundleIdentity(inputs, key));
  });
});
