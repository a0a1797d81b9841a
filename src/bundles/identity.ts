import { createHmac } from 'node:crypto';

/** Everything a bundle's bytes depend on; a change to any of them is a different bundle. */
export interface BundleInputs {
  readonly orgId: string;
  readonly kind: string;
  readonly version: string;
  /** SHA-256 of the stored base archive. */
  readonly baseSha256: string;
  /** SHA-256 of the kind manifest and template source. */
  readonly templateSha256: string;
  /** Versions of the keys embedded in the config. */
  readonly keyVersions: Readonly<Record<string, number>>;
  /** Non-secret render inputs: public URL, proxy settings, extra settings. */
  readonly settings: Readonly<Record<string, string>>;
}

/**
 * A bundle's identity: an HMAC-SHA256 of its inputs in a canonical form, keyed by a service
 * secret. Keys are sorted, so the same inputs always give the same id; the key means an id (it
 * travels in links) cannot be used to guess settings such as a proxy password offline.
 */
export function bundleIdentity(inputs: BundleInputs, key: Buffer): string {
  return createHmac('sha256', key)
    .update('agentpack bundle v1\0')
    .update(canonicalJson(inputs))
    .digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
