import { type Html, html, jsonData } from '../html.js';
import { downloadIcon, linkIcon, shieldIcon } from './icons.js';

/** What the download form needs from the catalog (a subset of GET /api/v1/agents). */
export interface DownloadKind {
  readonly kind: string;
  readonly description: string;
  readonly archive: 'jar' | 'zip';
  readonly configPath: string;
  readonly latest: string | null;
  readonly versions: readonly { readonly version: string; readonly withdrawn: boolean }[];
}

const TTL_CHOICES = [
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 604_800, label: '7 days' },
] as const;

/**
 * The download form (kind, version, format, proxy settings) and, beside it, what to verify the
 * download with. js/download.js asks for a short-lived signed link and lets the browser stream
 * the file; the only secret that ever appears in a URL is that link's own token.
 */
export function downloadPanel(orgId: string, kinds: readonly DownloadKind[]): Html {
  const usable = kinds.filter((kind) => kind.latest !== null);
  if (usable.length === 0) {
    return html`<section class="card" aria-labelledby="download-title">
  <h2 id="download-title">Download agent</h2>
  <p class="notice">No agent is in the catalog yet. A system administrator can upload one in System Settings &gt; Agent catalog.</p>
</section>`;
  }
  const first = usable[0] as DownloadKind;
  const data = usable.map((kind) => ({
    kind: kind.kind,
    description: kind.description,
    archive: kind.archive,
    configName: kind.configPath.split('/').pop() ?? kind.configPath,
    latest: kind.latest,
    versions: kind.versions.filter((v) => !v.withdrawn).map((v) => v.version),
  }));
  return html`<div class="download-grid" data-download-panel data-org-id="${orgId}">
${jsonData('download-kinds', data)}
<section class="card" aria-labelledby="download-title">
  <div class="card-head">
    <h2 id="download-title">Download agent</h2>
    <p class="card-note">Ready to run: the agent comes with this organization's current keys in its configuration.</p>
  </div>
  <form class="form" data-download-form novalidate>
    <div class="grid-2">
      <div class="form-field">
        <label for="dl-kind">Agent</label>
        <select id="dl-kind" name="kind" aria-describedby="dl-kind-hint">
          ${usable.map((kind) => html`<option value="${kind.kind}">${kindLabel(kind)}</option>`)}
        </select>
        <p class="hint" id="dl-kind-hint" data-kind-hint>${first.description}</p>
      </div>
      <div class="form-field">
        <label for="dl-version">Version</label>
        <select id="dl-version" name="version">
          ${versionOptions(first)}
        </select>
      </div>
    </div>
    <fieldset class="choices">
      <legend>Format</legend>
      <label class="choice">
        <input type="radio" name="format" value="embedded" checked>
        <span><span class="choice-title" data-embedded-title>${embeddedTitle(first)}</span>
        <span class="choice-note">Run it as it is: the configuration is inside the agent.</span></span>
      </label>
      <label class="choice">
        <input type="radio" name="format" value="zip">
        <span><span class="choice-title">Zip with the configuration beside the untouched agent</span>
        <span class="choice-note">The vendor's file stays byte for byte as published; SHA256SUMS and its signature come along.</span></span>
      </label>
      <label class="choice">
        <input type="radio" name="format" value="config">
        <span><span class="choice-title">Configuration file alone</span>
        <span class="choice-note" data-config-note>Just <code>${first.configPath.split('/').pop() ?? first.configPath}</code>, for an agent you already have.</span></span>
      </label>
    </fieldset>
    <details class="disclosure">
      <summary>Proxy settings <span class="muted">(optional)</span></summary>
      <p class="hint" id="proxy-hint">Written into the configuration when the agent reaches the service through a proxy. Leave empty for a direct connection.</p>
      <div class="grid-2">
        ${proxyField('proxy-host', 'Host', 'proxy.host', 'text', 'proxy.example.com')}
        ${proxyField('proxy-port', 'Port', 'proxy.port', 'text', '3128')}
        ${proxyField('proxy-user', 'User', 'proxy.user', 'text', '')}
        ${proxyField('proxy-password', 'Password', 'proxy.password', 'password', '')}
      </div>
    </details>
    <p class="form-error" data-download-error role="alert" hidden></p>
    <div class="form-actions">
      <button type="submit" class="button button-primary" data-download>${downloadIcon()}<span>Download</span></button>
      <div class="inline-field">
        <label for="ci-ttl">Link lifetime</label>
        <select id="ci-ttl" name="ttl">
          ${TTL_CHOICES.map((choice) => html`<option value="${choice.seconds}"${choice.seconds === 86_400 ? html` selected` : null}>${choice.label}</option>`)}
        </select>
        <button type="button" class="button" data-ci-link>${linkIcon()}<span>Copy CI link</span></button>
      </div>
    </div>
  </form>
  <div class="ci-output" data-ci-output hidden>
    <h3 id="ci-title">CI link</h3>
    <p class="hint" data-ci-expiry></p>
    <div class="value-line">
      <label class="visually-hidden" for="ci-url">CI link</label>
      <input class="input-mono" id="ci-url" type="text" readonly data-ci-url>
      <button type="button" class="button button-small" data-copy-ci aria-label="Copy the CI link again">Copy</button>
    </div>
    <p class="hint">Fetch it with no headers, for example:</p>
    <div class="code-block"><pre><code data-ci-command></code></pre></div>
  </div>
</section>
<section class="card card-aside" aria-labelledby="verify-title" data-verify>
  <div class="card-head">
    <h2 id="verify-title">${shieldIcon()}<span>Verify</span></h2>
    <p class="card-note">Every bundle is signed. Check what you downloaded with standard tools.</p>
  </div>
  <div data-verify-body aria-live="polite">
    <p class="muted">Choose an agent to see its SHA-256.</p>
  </div>
</section>
</div>`;
}

function kindLabel(kind: DownloadKind): string {
  const name = kind.kind.charAt(0).toUpperCase() + kind.kind.slice(1);
  return `${name} agent (${kind.archive === 'jar' ? 'JAR' : 'zip'})`;
}

function embeddedTitle(kind: DownloadKind): string {
  return kind.archive === 'jar' ? 'JAR with embedded configuration' : 'Zip with embedded configuration';
}

function versionOptions(kind: DownloadKind): Html {
  const versions = kind.versions.filter((v) => !v.withdrawn);
  return html`<option value="latest">Latest (${kind.latest ?? ''})</option>${versions.map(
    (v) => html`<option value="${v.version}">${v.version}</option>`,
  )}`;
}

function proxyField(id: string, label: string, setting: string, type: string, placeholder: string): Html {
  return html`<div class="form-field">
  <label for="${id}">${label}</label>
  <input id="${id}" type="${type}" data-setting="${setting}" autocomplete="${type === 'password' ? 'new-password' : 'off'}"
    spellcheck="false"${placeholder === '' ? null : html` placeholder="${placeholder}"`} aria-describedby="proxy-hint">
</div>`;
}
