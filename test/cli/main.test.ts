import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin/agentpack.js');

describe('agentpack as a real process, its reader gone', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentpack-epipe-'));
    const built = join(root, 'dist/cli/main.js');
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, 'src/cli/main.ts')).mtimeMs)
      await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
    expect(existsSync(built)).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // `true` exits at once without reading, so by the time Node has started and prints, nobody
  // reads the pipe: the write fails with EPIPE.
  async function piped(args: string[]): Promise<{ status: string; stderr: string }> {
    const quoted = args.map((arg) => `'${arg}'`).join(' ');
    const { stdout, stderr } = await exec(
      'bash',
      ['-c', `node '${bin}' ${quoted} | true; echo "\${PIPESTATUS[0]}"`],
      { cwd: dir, env: { ...process.env, AGENTPACK_DATA_DIR: join(dir, 'data') } },
    );
    return { status: stdout.trim(), stderr };
  }

  it('prints nothing to stderr and exits 0 when its output is not read', async () => {
    expect(await piped(['--help'])).toEqual({ status: '0', stderr: '' });
  });

  it('still finishes the command: pack writes the bundle and its statement', async () => {
    const out = join(dir, 'piped.jar');
    const result = await piped([
      'pack',
      '--base',
      join(root, 'fixtures/java-agent/agentpack-java-agent.jar'),
      '--kind',
      'java',
      '--out',
      out,
      '--set',
      'api.url=https://example.test',
      '--set',
      'api.api_key=k',
      '--set',
      'api.service_key=s',
      '--set',
      'api.user_name=u',
    ]);
    expect(result).toEqual({ status: '0', stderr: '' });
    expect(statSync(out).size).toBeGreaterThan(0);
    expect(await readFile(`${out}.sha256`, 'utf8')).toMatch(/^[0-9a-f]{64} {2}piped\.jar\n/);
  });

  it('still reports a failed command by its exit code', async () => {
    const result = await piped(['inspect', join(dir, 'missing.jar')]);
    expect(result.status).toBe('2');
    expect(result.stderr).toMatch(/^agentpack: .*missing\.jar/);
  });
});
