import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/common/errors.js';
import { loadConfig } from '../src/config.js';

const base = { AGENTPACK_DATA_DIR: '/tmp/agentpack-config-test' };
const s3 = { AGENTPACK_S3_BUCKET: 'agentpack-test', AGENTPACK_S3_ENDPOINT: 'http://127.0.0.1:9000' };

describe('loadConfig: dependency timeouts and the free-disk threshold', () => {
  it('defaults to 5 s for the database, 10 s for S3 and 8 MiB of free disk', () => {
    const config = loadConfig({ ...base, ...s3 }, '/');
    expect(config.dbTimeoutMs).toBe(5000);
    expect(config.store.timeoutMs).toBe(5000);
    expect(config.s3?.timeoutMs).toBe(10_000);
    expect(config.diskMinFreeBytes).toBe(8 * 1024 * 1024);
  });

  it('takes AGENTPACK_DB_TIMEOUT_MS, AGENTPACK_S3_TIMEOUT_MS and AGENTPACK_DISK_MIN_FREE_BYTES', () => {
    const config = loadConfig(
      {
        ...base,
        ...s3,
        AGENTPACK_DB_TIMEOUT_MS: '2000',
        AGENTPACK_S3_TIMEOUT_MS: '3000',
        AGENTPACK_DISK_MIN_FREE_BYTES: '0',
      },
      '/',
    );
    expect(config.store.timeoutMs).toBe(2000);
    expect(config.s3?.timeoutMs).toBe(3000);
    expect(config.diskMinFreeBytes).toBe(0);
  });

  for (const [name, value, message] of [
    [
      'AGENTPACK_DB_TIMEOUT_MS',
      '0',
      "AGENTPACK_DB_TIMEOUT_MS must be an integer from 100 to 600000, got '0'",
    ],
    [
      'AGENTPACK_DB_TIMEOUT_MS',
      '5s',
      "AGENTPACK_DB_TIMEOUT_MS must be an integer from 100 to 600000, got '5s'",
    ],
    [
      'AGENTPACK_S3_TIMEOUT_MS',
      '700000',
      "AGENTPACK_S3_TIMEOUT_MS must be an integer from 100 to 600000, got '700000'",
    ],
    ['AGENTPACK_DISK_MIN_FREE_BYTES', '-1', 'AGENTPACK_DISK_MIN_FREE_BYTES must be an integer from 0 to'],
  ] as const) {
    it(`refuses ${name}=${value} with one clear line`, () => {
      expect(() => loadConfig({ ...base, ...s3, [name]: value }, '/')).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...s3, [name]: value }, '/')).toThrow(message);
    });
  }
});
