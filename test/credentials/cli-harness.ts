import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `agentpack` in-process with the given environment (nothing from process.env) and stdin. */
export async function cli(argv: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await runCli(argv, { stdout, stderr, stdin: Readable.from([stdin]), env, cwd: '/' });
  return { code, stdout: out, stderr: err };
}
