import { VERSION_PATTERN } from '../../common/validate.js';
import type { Assets } from '../assets.js';
import { type Html, html } from '../html.js';
import { areaHeader, renderPage, type Viewer } from '../layout.js';
import { spinner, uploadIcon } from './icons.js';
import { keysPanel } from './keys.js';

export interface SystemPageContext {
  readonly assets: Assets;
  readonly viewer: Viewer;
  readonly now: number;
}

export interface SystemOrg {
  readonly orgId: string;
  readonly name: string;
  readonly slug: string;
  readonly agentUserName: string;
}

function systemHeader(current: 'api' | 'catalog'): Html {
  return areaHeader({
    eyebrow: 'System Settings',
    title: current === 'api' ? 'API keys of every organization' : 'Agent catalog',
    subtitle:
      current === 'api'
        ? 'Choose an organization to see, rotate or share its keys.'
        : 'The base agents that every organization downloads, configured with its own keys.',
    tabsLabel: 'System settings',
    tabs: [
      { href: '/system/settings/api', label: 'API', current: current === 'api' },
      { href: '/system/catalog', label: 'Agent catalog', current: current === 'catalog' },
    ],
  });
}

/** System Settings > API tab: any organization, the same controls as its own API tab. */
export function systemApiPage(
  context: SystemPageContext,
  orgs: readonly SystemOrg[],
  chosen: SystemOrg | null,
  asked: string | null,
): string {
  const picker = html`<form class="card picker" method="get" action="/system/settings/api">
  <div class="form-field">
    <label for="org-select">Organization</label>
    <select id="org-select" name="org">
      ${orgs.map(
        (org) =>
          html`<option value="${org.orgId}"${org.orgId === chosen?.orgId ? html` selected` : null}>${org.name} (${org.slug})</option>`,
      )}
    </select>
  </div>
  <button type="submit" class="button">Show keys</button>
</form>`;
  const missing =
    asked !== null && chosen === null
      ? html`<p class="notice notice-error" role="alert">There is no organization ${asked}. Choose one from the list.</p>`
      : null;
  const panel =
    chosen === null
      ? orgs.length === 0
        ? html`<p class="notice">There are no organizations yet. Create one with <code>agentpack org create NAME</code>.</p>`
        : null
      : html`<h2 class="section-title">Keys of ${chosen.name}</h2>
${keysPanel({ orgId: chosen.orgId, agentUserName: chosen.agentUserName, canRotate: true })}`;
  return renderPage(context.assets, {
    title: 'System Settings',
    viewer: context.viewer,
    scripts: chosen === null ? [] : ['js/keys.js'],
    serverNow: context.now,
    body: html`${systemHeader('api')}
<div class="stack">${missing}${orgs.length === 0 ? null : picker}${panel}</div>`,
  });
}

/** System Settings > Agent catalog: upload with progress, withdraw and restore versions. */
export function catalogPage(
  context: SystemPageContext,
  kinds: readonly { kind: string; archive: 'jar' | 'zip' }[],
): string {
  const upload = html`<section class="card" aria-labelledby="upload-title">
  <div class="card-head">
    <h2 id="upload-title">Upload a base agent</h2>
    <p class="card-note">The archive is checked completely as it arrives. A hostile or broken archive is refused with the reason, and nothing is stored.</p>
  </div>
  <form class="form" data-upload-form novalidate>
    <div class="grid-3">
      <div class="form-field">
        <label for="up-kind">Kind</label>
        <select id="up-kind" name="kind">
          ${kinds.map((kind) => html`<option value="${kind.kind}" data-archive="${kind.archive}">${kind.kind} (${kind.archive})</option>`)}
        </select>
      </div>
      <div class="form-field">
        <label for="up-version">Version</label>
        <input id="up-version" name="version" type="text" required autocomplete="off" spellcheck="false"
          placeholder="1.2.3" pattern="${VERSION_PATTERN}" aria-describedby="up-version-hint">
        <p class="hint" id="up-version-hint">Letters, digits, dots, dashes, plus signs.</p>
      </div>
      <div class="form-field">
        <label for="up-file">Archive</label>
        <input id="up-file" name="file" type="file" required accept=".jar,.zip,application/java-archive,application/zip" aria-describedby="up-file-hint">
        <p class="hint" id="up-file-hint">The vendor's agent, unchanged (.jar or .zip).</p>
      </div>
    </div>
    <div class="progress" data-upload-progress hidden>
      <div class="progress-label"><span id="upload-progress-label" data-progress-label>Uploading…</span><span data-progress-percent>0%</span></div>
      <progress id="upload-progress" max="100" value="0" aria-labelledby="upload-progress-label"></progress>
    </div>
    <p class="form-error" data-upload-error role="alert" hidden></p>
    <p class="notice notice-success" data-upload-done role="status" hidden></p>
    <div class="form-actions">
      <button type="submit" class="button button-primary" data-upload>${uploadIcon()}<span>Upload</span></button>
    </div>
  </form>
</section>`;
  const list = html`<section class="card" aria-labelledby="catalog-title" data-catalog>
  <div class="card-head">
    <h2 id="catalog-title">Agents in the catalog</h2>
    <p class="card-note"><em>Latest</em> is the highest version not withdrawn. A withdrawn version is no longer served; restore it to serve it again.</p>
  </div>
  <p class="notice notice-error" data-catalog-error role="alert" hidden></p>
  <p class="loading" data-catalog-loading>${spinner()}<span>Loading the catalog…</span></p>
  <div data-catalog-body></div>
</section>`;
  return renderPage(context.assets, {
    title: 'Agent catalog',
    viewer: context.viewer,
    scripts: ['js/catalog.js'],
    serverNow: context.now,
    body: html`${systemHeader('catalog')}
<div class="stack">${upload}${list}</div>`,
  });
}
