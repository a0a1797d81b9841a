/**
 * Runs the JDK's tools the way a user would: `java -javaagent:<jar> -version`, `jarsigner`,
 * `keytool`. Tests call `requireJava()` first: on a machine without a JDK they fail with a
 * message saying so rather than skipping (CI installs one through .ci/run).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a non-zero exit is a result, not an error. */
export function runTool(
  command: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ code: 0, stdout, stderr });
        } else if (typeof error.code === 'number') {
          resolve({ code: error.code, stdout, stderr });
        } else if (error.signal) {
          reject(new Error(`${command}: killed by ${error.signal}${error.killed ? ' (timed out)' : ''}`));
        } else {
          reject(new Error(`${command}: could not run (${error.code ?? error.message})`, { cause: error }));
        }
      },
    );
  });
}

const JDK_TOOLS = ['java', 'javac', 'jar', 'jarsigner', 'keytool'] as const;

/** Whether the JDK tools the tests use are on PATH. */
export async function javaAvailable(): Promise<boolean> {
  const found = await Promise.all(
    JDK_TOOLS.map((tool) =>
      runTool('sh', ['-c', `command -v ${tool}`]).then(
        (result) => result.code === 0,
        () => false,
      ),
    ),
  );
  return found.every(Boolean);
}

/** Throws a clear message when the JDK is missing, so a test fails instead of skipping. */
export async function requireJava(): Promise<void> {
  if (!(await javaAvailable())) {
    throw new Error(
      `expected a JDK on PATH (${JDK_TOOLS.join(', ')}); .ci/run installs openjdk-17-jdk-headless`,
    );
  }
}

/** `java -javaagent:<jar> -version`: the agent's premain runs, then the JVM prints its version. */
export function runJavaAgent(jar: string): Promise<ToolResult> {
  return runTool('java', [`-javaagent:${jar}`, '-version']);
}

/** `jarsigner -verify <jar>`; a good signature prints `jar verified.` and exits 0. */
export function verifyJar(jar: string): Promise<ToolResult> {
  return runTool('jarsigner', ['-verify', jar]);
}

async function mustSucceed(command: string, args: readonly string[]): Promise<ToolResult> {
  const result = await runTool(command, args);
  if (result.code !== 0) {
    throw new Error(`${command} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result;
}

/** Signs `inJar` into `outJar` with a throwaway EC key made in a temp keystore. */
export async function signJar(inJar: string, outJar: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'agentpack-sign-'));
  const keystore = join(dir, 'throwaway.p12');
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass', 'throwaway'];
  try {
    await mustSucceed('keytool', [
      '-genkeypair',
      ...store,
      '-keypass',
      'throwaway',
      '-alias',
      'fixture',
      '-keyalg',
      'EC',
      '-groupname',
      'secp256r1',
      '-dname',
      'CN=agentpack test signer',
      '-validity',
      '2',
    ]);
    await mustSucceed('jarsigner', [...store, '-signedjar', outJar, inJar, 'fixture']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
