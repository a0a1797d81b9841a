import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { loadConfig } from '../../src/config.js';
import { openServices } from '../../src/services.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-signing-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { AGENTPACK_DATA_DIR: dir },
    cwd: dir,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
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
