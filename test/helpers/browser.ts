/**
 * Real Chromium for UI tests: Debian's /usr/bin/chromium driven by playwright-core (no browser is
 * ever downloaded). A machine without it fails with a message saying how to get it (CI installs
 * it through .ci/chromium.sh).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.AGENTPACK_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `UI tests need Chromium at ${CHROMIUM_PATH}; install it with \`bash .ci/chromium.sh\` (apt-get install chromium)` +
        `${process.env.CI ? ' — CI must provide it' : ''}`,
    );
  }
}

/** A fresh Chromium profile; clipboard access granted for `origin`, downloads accepted. */
export async function launchBrowser(origin: string): Promise<Browser> {
  requireChromium();
  const profile = await mkdtemp(join(tmpdir(), 'agentpack-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      acceptDownloads: true,
      viewport: { width: 1280, height: 860 },
      locale: 'en-GB',
      timezoneId: 'UTC',
      timeout: 60_000,
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A port that was free a moment ago, so the app can know its own public URL before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

export const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts', 'ui');

/** A full-page screenshot to test-artifacts/ui/<name>.png (gitignored), for people to look at. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  // Fonts settled, the transient toast put away: the picture shows the page, not a transition.
  // (A string runs in the page; this project's TypeScript has no DOM types.)
  await page.evaluate(`(async () => {
    await document.fonts.ready;
    document.getElementById('announcer')?.classList.remove('is-visible');
  })()`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: 'disabled' });
  return path;
}
