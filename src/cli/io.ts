import type { Readable, Writable } from 'node:stream';

/** What a command may touch of the process: injected so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: Readable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** A command: parses its own arguments, returns the process exit code. */
export type Command = (args: string[], io: CliIo) => Promise<number>;

export function print(stream: Writable, line: string): void {
  stream.write(`${line}\n`);
}
