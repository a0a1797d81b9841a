/**
 * The web UI in real Chromium against the real app listening on 127.0.0.1: controls are found by
 * role and accessible name, as a person finds them. Each page is saved as a screenshot under
 * test-artifacts/ui/ for people to look at.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, freePort, launchBrowser, screenshot } from '../helpers/browser.js';
import { createTestApp, PASSWORD, type TestApp, type TestUser } from '../http/harness.js';

const exec = promisify(execFile);
const HOSTILE = join(process.cwd(), 'test', 'corpus', 'failure', "has a '..' segment in its name.zip");

let t: TestApp;
let browser: Browser;
let page: Page;
let origin: string;
let root: TestUser;
let work: string;
/** The agent service key shown after the rotation test; the download test expects it inside the JAR. */
let rotatedKey: string | undefined;
/** Script errors and Content-Security-Policy violations seen on any page. */
const problems: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  t = await createTestApp({ env: { AGENTPACK_PUBLIC_URL: origin } });
  await t.app.listen({ host: '127.0.0.1', port });
  const added = await t.services.credentials.addUser(
    {
      email: 'root@agentpack.test',
      orgId: t.other.orgId,
      role: 'member',
      password: PASSWORD,
      systemAdmin: true,
    },
    'test',
  );
  root = { userId: added.userId, email: added.email, password: PASSWORD, serviceKey: added.serviceKey ?? '' };
  work = await mkdtemp(join(tmpdir(), 'agentpack-ui-'));
  browser = await launchBrowser(origin);
  page = browser.page;
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) problems.push(`${page.url()}: ${message.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

const apiTab = (orgId: string) => `${origin}/orgs/${orgId}/settings/api`;

async function signIn(user: TestUser): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${origin}/login`);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  // The landing page fetches (and audits) keys after load; let that finish before the test goes on.
  await page.waitForLoadState('networkidle');
}

/** Waits until the live region has said `text`. */
async function announced(text: string): Promise<void> {
  await page.getByRole('status').filter({ hasText: text }).waitFor();
}

async function clipboard(): Promise<string> {
  const text: unknown = await page.evaluate('navigator.clipboard.readText()');
  if (typeof text !== 'string') throw new Error('the clipboard holds no text');
  return text;
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('sign in', () => {
  it('sends a visitor to the sign-in page, refuses a wrong password in words, then opens the API tab', async () => {
    await page.goto(`${origin}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await screenshot(page, 'login');

    await page.getByLabel('E-mail').fill(t.admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'not right' });
    await alert.waitFor();
    expect(await alert.textContent()).toBe('The e-mail address or the password is not right. Try again.');

    await page.getByLabel('Password').fill(t.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(apiTab(t.acme.orgId));
    await page.getByRole('heading', { level: 1, name: 'Acme' }).waitFor();
    expect(await page.getByRole('link', { name: 'API', exact: true }).getAttribute('aria-current')).toBe(
      'page',
    );
  });
});

describe('Organization Settings > API tab', () => {
  it('serves no secret in its HTML and forbids caching it', async () => {
    await signIn(t.admin);
    const response = await page.goto(apiTab(t.acme.orgId));
    expect(response?.status()).toBe(200);
    expect(response?.headers()['cache-control']).toBe('no-store');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    const source = (await response?.text()) ?? '';
    for (const secret of [t.acme.apiKey, t.acme.agent.serviceKey]) expect(source).not.toContain(secret);
  });

  it('reveals a key, hides it again with its text gone from the page, and copies it', async () => {
    await signIn(t.admin);
    await page.goto(apiTab(t.acme.orgId));
    await page.getByText(`${t.acme.keyIds.apiKey}_`).waitFor();
    await screenshot(page, 'api');

    await page.getByRole('button', { name: 'Reveal API key' }).click();
    await page.getByText(t.acme.apiKey, { exact: true }).waitFor();
    await screenshot(page, 'api-revealed');

    await page.getByRole('button', { name: 'Hide API key' }).click();
    await page.getByRole('button', { name: 'Reveal API key' }).waitFor();
    expect(await page.content()).not.toContain(t.acme.apiKey);

    await page.getByRole('button', { name: 'Copy API key' }).click();
    await announced('Copied the API key');
    expect(await clipboard()).toBe(t.acme.apiKey);
    expect(await page.content()).not.toContain(t.acme.apiKey);

    await page.getByRole('button', { name: 'Copy organization ID' }).click();
    await announced('Copied the organization id');
    expect(await clipboard()).toBe(t.acme.orgId);
  });

  it('generates a sample API request with my own credentials that curl runs as printed', async () => {
    await signIn(t.admin);
    await page.goto(apiTab(t.acme.orgId));
    await page.getByRole('button', { name: 'Generate Sample API Request' }).click();
    const command = page.getByText(/^curl /);
    await command.waitFor();
    const text = (await command.textContent()) ?? '';
    expect(text).toContain(t.acme.apiKey);
    await page.getByRole('button', { name: 'Copy sample request' }).click();
    await announced('Copied the sample request');
    expect(await clipboard()).toBe(text);
    const { stdout } = await exec('sh', ['-c', text]);
    expect(JSON.parse(stdout)).toMatchObject({ orgId: t.acme.orgId, apiKey: t.acme.apiKey });
    await page.getByRole('button', { name: 'Hide sample request' }).click();
    expect(await page.content()).not.toContain(t.acme.apiKey);
  });

  it('rotates the agent service key with a 1-hour grace: the new key and the pending expiry appear', async () => {
    await signIn(t.admin);
    await page.goto(apiTab(t.acme.orgId));
    await page.getByRole('button', { name: 'Rotate agent service key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate agent service key' });
    await dialog.waitFor();
    const choices = dialog.getByRole('group', { name: 'When should the current key stop working?' });
    expect(await choices.getByRole('radio').count()).toBe(4);
    await choices.getByRole('radio', { name: /In 1 hour/ }).check();
    await screenshot(page, 'rotate-dialog', { fullPage: false });
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const current = await t.services.credentials.getKeys(t.acme.orgId);
    expect(current.agent.serviceKey).not.toBe(t.acme.agent.serviceKey);
    expect(current.versions.agentServiceKey).toBe(2);
    await page.getByText(current.agent.serviceKey, { exact: true }).waitFor();
    const pending = page.getByText(/Previous key aps_\w+ \(version 1\) keeps working until .*, in 1 hour\./);
    await pending.waitFor();
    expect(await pending.textContent()).toContain(t.acme.keyIds.agentServiceKey);
    await page.getByRole('button', { name: 'End now: stop the previous agent service key' }).waitFor();
    await announced('New agent service key created.');
    await screenshot(page, 'api-rotated');
    rotatedKey = current.agent.serviceKey;
  });
});

describe('Download agent', () => {
  it('downloads the Java agent: a valid JAR holding the new key, with a SHA-256 and signature that verify', async () => {
    expect(rotatedKey, 'the rotation test runs first').toBeDefined();
    await signIn(t.admin);
    await page.goto(`${origin}/orgs/${t.acme.orgId}/download`);
    await page.getByLabel('Agent', { exact: true }).selectOption('java');
    await page.getByLabel('Version', { exact: true }).selectOption('latest');
    await page.getByRole('radio', { name: /JAR with embedded configuration/ }).check();
    await page.getByText(/^[0-9a-f]{64}$/).waitFor();
    await screenshot(page, 'download');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download', exact: true }).click(),
    ]);
    const file = join(work, download.suggestedFilename());
    await download.saveAs(file);
    expect(file).toMatch(/\.jar$/);
    expect((await exec('unzip', ['-t', file])).stdout).toContain('No errors detected');
    // .properties escapes ':' and '=' in values; undo that to read them.
    const properties = (await exec('unzip', ['-p', file, 'agentpack.properties'])).stdout.replace(
      /\\(.)/g,
      '$1',
    );
    expect(properties).toContain(`api.service_key=${rotatedKey}`);
    expect(properties).toContain(`api.url=${origin}`);

    const digest = await sha256(file);
    await page.getByText(digest, { exact: true }).waitFor();
    const files = page.getByRole('list', { name: 'Verification files' });
    for (const [name, suffix] of [
      [`${download.suggestedFilename()}.sha256`, '.sha256'],
      [`${download.suggestedFilename()}.sig`, '.sig'],
      ['signing-key.pem (public key)', '.pem'],
    ] as const) {
      const href = (await files.getByRole('link', { name }).getAttribute('href')) ?? '';
      const response = await fetch(new URL(href, origin));
      expect(response.status).toBe(200);
      const target = suffix === '.pem' ? join(work, 'signing-key.pem') : `${file}${suffix}`;
      await writeFile(target, Buffer.from(await response.arrayBuffer()));
    }
    const sums = await exec('sha256sum', ['-c', `${download.suggestedFilename()}.sha256`], { cwd: work });
    expect(sums.stdout).toContain(': OK');
    const verified = await exec(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        'signing-key.pem',
        '-rawin',
        '-in',
        `${file}.sha256`,
        '-sigfile',
        `${file}.sig`,
      ],
      { cwd: work },
    );
    expect(verified.stdout).toContain('Signature Verified Successfully');
    await screenshot(page, 'download-verify');
  });

  it('writes proxy settings into the configuration file alone', async () => {
    await signIn(t.admin);
    await page.goto(`${origin}/orgs/${t.acme.orgId}/download`);
    await page.getByRole('radio', { name: /Configuration file alone/ }).check();
    await page.getByText('Proxy settings').click();
    await page.getByLabel('Host').fill('proxy.acme.test');
    await page.getByLabel('Port').fill('not a port');
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'The proxy port must be a number' }).waitFor();
    await page.getByLabel('Port').fill('3128');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download', exact: true }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('agentpack.properties');
    const file = join(work, 'agentpack.properties');
    await download.saveAs(file);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('proxy.host=proxy.acme.test');
    expect(text).toContain('proxy.port=3128');
  });

  it('copies a CI link with the chosen lifetime that Node fetch follows without any header', async () => {
    await signIn(t.admin);
    await page.goto(`${origin}/orgs/${t.acme.orgId}/download`);
    await page.getByLabel('Link lifetime').selectOption({ label: '7 days' });
    await page.getByRole('button', { name: 'Copy CI link' }).click();
    await announced('Copied the CI link');
    const url = await clipboard();
    expect(url).toMatch(new RegExp(`^${origin}/dl/`));
    expect(await page.getByRole('textbox', { name: 'CI link' }).inputValue()).toBe(url);
    await page.getByText(/Works without credentials until 8 Jan 2030/).waitFor();
    await screenshot(page, 'download-ci-link');

    const response = await fetch(url);
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.subarray(0, 2).toString('latin1')).toBe('PK');
    const digest = createHash('sha256').update(body).digest('hex');
    await page.getByText(digest, { exact: true }).waitFor();
  });
});

describe('Audit tab', () => {
  it('lists who did what, newest first, a page at a time', async () => {
    await signIn(t.admin);
    for (let i = 0; i < 30; i++) {
      await t.services.credentials.audit({
        orgId: t.acme.orgId,
        actor: 'cli:ops',
        action: 'key.viewed',
        detail: { n: i },
      });
    }
    await page.goto(`${origin}/orgs/${t.acme.orgId}/settings/audit`);
    const table = page.getByRole('table', { name: 'Audit log, newest first' });
    await table.getByRole('row').nth(1).waitFor();
    const first = await table.getByRole('row').nth(1).textContent();
    expect(first).toContain('Viewed the keys');
    expect(first).toContain('Command line (ops)');
    expect(first).toContain('n: 29');
    await screenshot(page, 'audit');

    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText(/^Page 2/).waitFor();
    const older = (await table.textContent()) ?? '';
    expect(older).not.toContain('n: 29');
    expect(older).toContain('Rotated a key');
    expect(older).toContain(t.admin.email);
    await screenshot(page, 'audit-older');
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText(/^Page 1/).waitFor();
    expect(await table.getByRole('row').nth(1).textContent()).toContain('n: 29');
  });
});

describe('sign out', () => {
  it('signs out from the user menu', async () => {
    await signIn(t.admin);
    await page.goto(apiTab(t.acme.orgId));
    const menuButton = page.getByRole('button', { name: `User menu for ${t.admin.email}` });
    await menuButton.click();
    expect(await menuButton.getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, 'user-menu');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${origin}/logout`);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await screenshot(page, 'logout');
    const again = await page.goto(apiTab(t.acme.orgId));
    expect(new URL(again?.url() ?? '').pathname).toBe('/login');
  });
});

describe('a member', () => {
  it('sees the keys but no rotate control and no audit tab', async () => {
    await signIn(t.member);
    await page.goto(apiTab(t.acme.orgId));
    await page.getByRole('button', { name: 'Reveal agent service key' }).click();
    await page.getByText(rotatedKey ?? 'the rotated key', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: /Rotate/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /End now/ }).count()).toBe(0);
    expect(await page.getByRole('dialog', { includeHidden: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    await page.getByText(/keeps working until/).waitFor();
    await screenshot(page, 'api-member');
    const audit = await page.goto(`${origin}/orgs/${t.acme.orgId}/settings/audit`);
    expect(audit?.status()).toBe(403);
    await page.getByText('Only organization admins can see the audit log.').waitFor();
  });

  it("reaches another organization's pages only as a 404 page", async () => {
    await signIn(t.member);
    for (const path of ['settings/api', 'download', 'settings/audit']) {
      const response = await page.goto(`${origin}/orgs/${t.other.orgId}/${path}`);
      expect(response?.status()).toBe(404);
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      expect(await page.content()).not.toContain('Other');
    }
    await screenshot(page, 'not-found');
    const system = await page.goto(`${origin}/system/catalog`);
    expect(system?.status()).toBe(403);
  });
});

describe('System Settings', () => {
  it('lets a system admin choose any organization and see the same controls', async () => {
    await signIn(root);
    await page.getByRole('button', { name: `User menu for ${root.email}` }).click();
    await page.getByRole('link', { name: 'System Settings' }).click();
    await page.waitForURL(`${origin}/system/settings/api`);
    await page.getByLabel('Organization', { exact: true }).selectOption({ label: 'Acme (acme)' });
    await page.getByRole('button', { name: 'Show keys' }).click();
    await page.getByRole('heading', { name: 'Keys of Acme' }).waitFor();
    await page.getByRole('button', { name: 'Reveal API key' }).click();
    await page.getByText(t.acme.apiKey, { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Rotate API key' }).waitFor();
    await page.getByRole('button', { name: 'Hide API key' }).click();
    await screenshot(page, 'system-api');
  });

  it('refuses a hostile archive in the catalog with the reason in words, then withdraws and restores a version', async () => {
    await signIn(root);
    await page.goto(`${origin}/system/catalog`);
    await page.getByRole('table', { name: 'java agent' }).waitFor();
    await page.getByLabel('Kind').selectOption('node');
    await page.getByLabel('Version').fill('6.6.6');
    await page.getByLabel('Archive').setInputFiles(HOSTILE);
    await page.getByRole('button', { name: 'Upload' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The archive was refused' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The archive was refused: .*has a '\.\.' segment in its name/);
    await screenshot(page, 'catalog-refused');
    const listed = await t.app.inject({
      url: '/api/v1/agents?withdrawn=true',
      headers: await sessionHeaders(),
    });
    expect(JSON.stringify(listed.json())).not.toContain('6.6.6');

    await page.getByRole('button', { name: 'Withdraw java 1.0.0' }).click();
    await page.getByRole('button', { name: 'Restore java 1.0.0' }).waitFor();
    await announced('java 1.0.0 withdrawn');
    const row = page.getByRole('table', { name: 'java agent' }).getByRole('row', { name: /1\.0\.0/ });
    expect(await row.textContent()).toContain('withdrawn');
    await screenshot(page, 'catalog-withdrawn');
    await page.getByRole('button', { name: 'Restore java 1.0.0' }).click();
    await page.getByRole('button', { name: 'Withdraw java 1.0.0' }).waitFor();
    await screenshot(page, 'catalog');
  });

  it('uploads a base agent with a progress bar and lists it', async () => {
    await signIn(root);
    await page.goto(`${origin}/system/catalog`);
    await page.getByLabel('Kind').selectOption('node');
    await page.getByLabel('Version').fill('1.1.0');
    await page
      .getByLabel('Archive')
      .setInputFiles(join(process.cwd(), 'fixtures', 'node-agent', 'agentpack-node-agent.zip'));
    // Every state the progress bar shows while the upload runs (a string runs in the page).
    await page.evaluate(`(() => {
      const seen = (window.progressSeen = []);
      new MutationObserver(() => {
        const bar = document.querySelector('progress');
        if (bar !== null && !bar.closest('[hidden]')) seen.push(bar.getAttribute('value') ?? 'indeterminate');
      }).observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
    })()`);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText(/^Added node 1\.1\.0: \d+ entries/).waitFor();
    await page.getByRole('button', { name: 'Withdraw node 1.1.0' }).waitFor();
    const seen: unknown = await page.evaluate('window.progressSeen');
    expect(Array.isArray(seen) && seen.length > 0).toBe(true);
  });
});

/** Cookie + CSRF headers of the signed-in browser session, for checking state through the API. */
async function sessionHeaders(): Promise<Record<string, string>> {
  const cookies = await page.context().cookies(origin);
  const cookie = cookies.find((c) => c.name === 'agentpack_session');
  return { cookie: `agentpack_session=${cookie?.value ?? ''}` };
}

describe('on a phone', () => {
  it('fits the API tab and the download form into a narrow screen without sideways scrolling', async () => {
    await signIn(t.admin);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, name] of [
        ['settings/api', 'api-phone'],
        ['download', 'download-phone'],
      ] as const) {
        await page.goto(`${origin}/orgs/${t.acme.orgId}/${path}`);
        await page.waitForLoadState('networkidle');
        const overflow: unknown = await page.evaluate(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        expect(overflow).toBe(0);
        await screenshot(page, name);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });
});

describe('every page', () => {
  it('ran its scripts without an error and within the Content-Security-Policy', () => {
    expect(problems).toEqual([]);
  });
});
