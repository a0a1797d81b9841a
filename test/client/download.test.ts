import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VerificationError } from '../../src/bundles/signature.js';
import { credentialsFromEnv } from '../../src/client/auth.js';
import { type DownloadRequest, downloadBundle } from '../../src/client/download.js';
import { downloadExitCode, HttpError, InterruptedError, NetworkError } from '../../src/client/errors.js';
import { KeyFetchError } from '../../src/client/keys.js';
import { silentProgress } from '../../src/client/progress.js';
import { relayed, UsageError } from '../../src/common/errors.js';
import { type FakeBundle, FakeBundleServer } from '../helpers/fake-bundle-server.js';

let server: FakeBundleServer;
let bundle: FakeBundle;
let dir: string;

beforeAll(async () => {
  server = await FakeBundleServer.start();
  bundle = server.publish('acme', 'java', '1.0.0', randomBytes(1024 * 1024));
});

afterAll(async () => {
  await server.close();
});

beforeEach(async () => {
  server.faults = {};
  server.onBundleBytes = undefined;
  server.requests.length = 0;
  dir = await mkdtemp(join(tmpdir(), 'agentpack-client-'));
  return () => rm(dir, { recursive: true, force: true });
});

function request(overrides: Partial<DownloadRequest> = {}): DownloadRequest {
  return {
    url: new URL(server.bundleUrl('acme', 'java', '1.0.0')),
    directory: dir,
    cwd: dir,
    credentials: credentialsFromEnv(server.env()),
    resume: true,
    progress: silentProgress,
    signal: new AbortController().signal,
    ...overrides,
  };
}

const partPath = () => join(dir, `.${bundle.fileName}.part`);

describe('downloadBundle', () => {
  it('returns the verified statement fields and where the bundle is', async () => {
    const result = await downloadBundle(request());
    expect(result).toMatchObject({
      path: join(dir, bundle.fileName),
      size: bundle.bytes.length,
      sha256Hex: bundle.sha256Hex,
      keyId: server.key.keyId,
      unchanged: false,
      resumedFrom: 0,
    });
    const written = await readFile(result.path);
    expect(createHash('sha256').update(written).digest('hex')).toBe(bundle.sha256Hex);
    expect((await stat(result.path)).mode & 0o777).toBe(0o600);
  });

  it('gives up on a server that stops sending, keeping the part to resume from', async () => {
    server.faults = { stallAfter: 256 * 1024 };
    const failure = await downloadBundle(request({ idleTimeoutMs: 300 })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NetworkError);
    expect((failure as Error).message).toBe(
      `${server.bundleUrl('acme', 'java', '1.0.0')}: no data from the server for 0.3 s while downloading after 256.0 KiB of 1.0 MiB; run the same command again to resume`,
    );
    expect((await stat(partPath())).size).toBe(256 * 1024);
    server.faults = {};
    const resumed = await downloadBundle(request());
    expect(resumed.resumedFrom).toBe(256 * 1024);
  });

  it('removes the part file when aborted mid-transfer', async () => {
    server.faults = { stallAfter: 128 * 1024 };
    const controller = new AbortController();
    const pending = downloadBundle(request({ signal: controller.signal }));
    // Abort once the stalled bytes are on disk, so there is a part file to remove.
    while ((await stat(partPath()).catch(() => undefined))?.size !== 128 * 1024)
      await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new InterruptedError());
    await expect(pending).rejects.toBeInstanceOf(InterruptedError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('starts over when the part file is already as long as the bundle (416)', async () => {
    await writeFile(partPath(), randomBytes(bundle.bytes.length + 10));
    await writeFile(`${partPath()}.etag`, `"${bundle.sha256Hex}"\n`);
    const result = await downloadBundle(request());
    expect(result.resumedFrom).toBe(0);
    expect(server.bundleRequests().map((r) => r.status)).toEqual([416, 200]);
    expect(
      createHash('sha256')
        .update(await readFile(result.path))
        .digest('hex'),
    ).toBe(bundle.sha256Hex);
  });

  it('writes under the name given instead of the statement name', async () => {
    const result = await downloadBundle(request({ fileName: 'agent.jar' }));
    expect((await readdir(dir)).sort()).toEqual(['agent.jar', 'agent.jar.sha256', 'agent.jar.sig']);
    expect(result.fileName).toBe(bundle.fileName);
  });
});

describe('downloadExitCode', () => {
  it('maps verification to 1, usage to 2, network and server to 3, interruption to 130', () => {
    expect(downloadExitCode(new VerificationError('DIGEST_MISMATCH', 'x'))).toBe(1);
    expect(downloadExitCode(new UsageError('x'))).toBe(2);
    expect(downloadExitCode(new NetworkError('x'))).toBe(3);
    expect(downloadExitCode(new HttpError(relayed('UNAUTHORIZED'), 'x', 401))).toBe(3);
    expect(downloadExitCode(new KeyFetchError('x'))).toBe(3);
    expect(downloadExitCode(new InterruptedError())).toBe(130);
    expect(downloadExitCode(new Error('x'))).toBeUndefined();
  });
});
