import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openServices } from '../../src/services.js';
import { runCaptured } from '../helpers/cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-signing-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]) {
  return runCaptured(args, { env: { AGENTPACK_DATA_DIR: dir }, cwd: dir });
}

describe('agentpack keys rotate-signing', () => {
  it('adds a new current signing key and keeps the old ones published', async () => {
    const first = await cli(['keys', 'rotate-signing', '--json']);
    const second = await cli(['keys', 'rotate-signing', '--json']);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const a = JSON.parse(first.stdout) as { keyId: string; keys: string[] };
    const b = JSON.parse(second.stdout) as { keyId: string; keys: string[] };
    expect(b.keyId).not.toBe(a.keyId);
    expect(b.keys).toEqual([...a.keys, b.keyId]);
    const services = await openServices(loadConfig({ AGENTPACK_DATA_DIR: dir }, dir));
    try {
      expect((await services.signing.current()).keyId).toBe(b.keyId);
      expect((await services.signing.publicKeys()).map((k) => k.keyId)).toEqual(b.keys);
    } finally {
      await services.close();
    }
  });

  it('refuses arguments it does not take, with one line', async () => {
    const result = await cli(['keys', 'rotate-signing', 'extra']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^agentpack: /);
  });
});
