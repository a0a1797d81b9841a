import { isAgentpackError } from '../common/errors.js';
import type { CliIo, Command } from './io.js';
import { print } from './io.js';

/**
 * Each command lives in its own module and is imported only when run, so `agentpack inspect`
 * never pays for the HTTP server or a database driver.
 */
const commands: Record<string, { summary: string; load: () => Promise<{ run: Command }> }> = {
  // one line per command: name: { summary, load: () => import('./commands/<name>.js') },
  pack: {
    summary: 'render a config and splice it into a base archive',
    load: () => import('./commands/pack.js'),
  },
  inspect: {
    summary: 'validate a base archive and summarize it',
    load: () => import('./commands/inspect.js'),
  },
  agent: {
    summary: 'add, withdraw and list base agents in the catalog',
    load: () => import('./commands/agent.js'),
  },
  bundles: {
    summary: 'rebuild the bundles of every organization (after rotations)',
    load: () => import('./commands/bundles.js'),
  },
  verify: { summary: "check a bundle's digest and signature", load: () => import('./commands/verify.js') },
  download: { summary: 'download a bundle and verify it', load: () => import('./commands/download.js') },
  org: { summary: 'create and list organizations', load: () => import('./commands/org.js') },
  user: { summary: 'add a user to an organization', load: () => import('./commands/user.js') },
  keys: { summary: 'rotate, show and rewrap organization keys', load: () => import('./commands/keys.js') },
  serve: { summary: 'run the service (HTTP API, downloads, UI)', load: () => import('./commands/serve.js') },
};

const usage = [
  'usage: agentpack <command> [options]',
  '',
  ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`),
  '',
  "Run 'agentpack <command> --help' for a command's options.",
].join('\n');

/** Exit codes: 0 ok, 1 failure the user cannot fix by changing input, 2 bad input. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    print(name === undefined ? io.stderr : io.stdout, usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    print(io.stderr, `agentpack: unknown command '${name}' (try 'agentpack --help')`);
    return 2;
  }
  try {
    const module = await command.load();
    return await module.run(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: CliIo): number {
  if (isAgentpackError(error)) {
    print(io.stderr, `agentpack: ${error.message}`);
    return error.status >= 500 ? 1 : 2;
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') {
    const path = (error as NodeJS.ErrnoException).path;
    const what = {
      ENOENT: 'no such file',
      EACCES: 'permission denied',
      EISDIR: 'is a directory',
      ENOTDIR: 'not a directory',
    }[code];
    print(io.stderr, `agentpack: ${path ?? 'file'}: ${what}`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  print(io.stderr, `agentpack: unexpected error: ${message}`);
  if (io.env.AGENTPACK_DEBUG && error instanceof Error && error.stack) print(io.stderr, error.stack);
  return 1;
}
