import type { Assets } from '../assets.js';
import { type Html, html } from '../html.js';
import { areaHeader, renderPage, type Viewer, type ViewerOrg } from '../layout.js';
import { type DownloadKind, downloadPanel } from './download.js';
import { spinner } from './icons.js';
import { keysPanel } from './keys.js';

export interface OrgPageContext {
  readonly assets: Assets;
  readonly viewer: Viewer;
  readonly org: ViewerOrg & { readonly agentUserName: string };
  /** Server clock (ms). */
  readonly now: number;
}

type OrgTab = 'api' | 'download' | 'audit';

function orgHeader(context: OrgPageContext, current: OrgTab): Html {
  const { org } = context;
  const base = `/orgs/${org.orgId}`;
  const tabs = [
    { href: `${base}/settings/api`, label: 'API', current: current === 'api' },
    { href: `${base}/download`, label: 'Download agent', current: current === 'download' },
    ...(org.role === 'admin'
      ? [{ href: `${base}/settings/audit`, label: 'Audit', current: current === 'audit' }]
      : []),
  ];
  const role = context.viewer.systemAdmin ? 'system admin' : org.role;
  return areaHeader({
    eyebrow: 'Organization Settings',
    title: org.name,
    subtitle: html`You are ${role === 'admin' ? 'an' : 'a'} <strong>${role}</strong> here.`,
    tabsLabel: 'Organization settings',
    tabs,
  });
}

/** Organization Settings > API tab. */
export function orgApiPage(context: OrgPageContext): string {
  const { org } = context;
  return renderPage(context.assets, {
    title: `API · ${org.name}`,
    viewer: context.viewer,
    orgId: org.orgId,
    scripts: ['js/keys.js'],
    serverNow: context.now,
    body: html`${orgHeader(context, 'api')}
${keysPanel({ orgId: org.orgId, agentUserName: org.agentUserName, canRotate: org.role === 'admin' })}`,
  });
}

/** Organization Settings > Download agent. */
export function orgDownloadPage(context: OrgPageContext, kinds: readonly DownloadKind[]): string {
  const { org } = context;
  return renderPage(context.assets, {
    title: `Download agent · ${org.name}`,
    viewer: context.viewer,
    orgId: org.orgId,
    scripts: ['js/download.js'],
    serverNow: context.now,
    body: html`${orgHeader(context, 'download')}
${downloadPanel(org.orgId, kinds)}`,
  });
}

/** Organization Settings > Audit (admins; members are told why they cannot see it). */
export function orgAuditPage(context: OrgPageContext): string {
  const { org } = context;
  const body =
    org.role === 'admin'
      ? auditPanel(org.orgId)
      : html`<section class="card"><h2>Audit log</h2><p class="notice">Only organization admins can see the audit log.</p></section>`;
  return renderPage(context.assets, {
    title: `Audit · ${org.name}`,
    viewer: context.viewer,
    orgId: org.orgId,
    scripts: org.role === 'admin' ? ['js/audit.js'] : [],
    serverNow: context.now,
    body: html`${orgHeader(context, 'audit')}
${body}`,
  });
}

function auditPanel(orgId: string): Html {
  return html`<section class="card" aria-labelledby="audit-title" data-audit data-org-id="${orgId}">
  <div class="card-head">
    <h2 id="audit-title">Audit log</h2>
    <p class="card-note">Who did what and when, newest first: key views and rotations, downloads, links, failed sign-ins.</p>
  </div>
  <p class="notice notice-error" data-audit-error role="alert" hidden></p>
  <div class="table-wrap">
    <table class="table">
      <caption class="visually-hidden">Audit log, newest first</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Details</th></tr></thead>
      <tbody data-audit-rows></tbody>
    </table>
  </div>
  <p class="loading" data-audit-loading>${spinner()}<span>Loading the audit log…</span></p>
  <nav class="pager" aria-label="Audit log pages">
    <button type="button" class="button button-small" data-audit-newer disabled>Newer</button>
    <span class="pager-status" data-audit-page aria-live="polite">Page 1</span>
    <button type="button" class="button button-small" data-audit-older disabled>Older</button>
  </nav>
</section>`;
}
