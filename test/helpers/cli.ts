import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `agentpack` in-process with captured output: only the given environment (nothing from
 * process.env), the given working directory and stdin, and stderr optionally posing as a terminal.
 */
export async function runCaptured(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd: string; stdin?: string; tty?: boolean },
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: options.tty === true });
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const stdin = options.stdin === undefined ? new PassThrough() : Readable.from([options.stdin]);
  const code = await runCli(argv, { stdout, stderr, stdin, env: options.env ?? {}, cwd: options.cwd });
  return { code, stdout: out, stderr: err };
}
