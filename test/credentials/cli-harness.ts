import { type CliResult, runCaptured } from '../helpers/cli.js';

export type { CliResult };

/** Runs `agentpack` in-process with the given environment (nothing from process.env) and stdin. */
export function cli(argv: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  return runCaptured(argv, { env, cwd: '/', stdin });
}
