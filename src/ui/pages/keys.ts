import { type Html, html } from '../html.js';
import { copyIcon, eyeIcon, spinner } from './icons.js';

export interface KeysPanelOptions {
  readonly orgId: string;
  readonly agentUserName: string;
  /** Admins (of the organization, or system admins) see the rotate and end-grace controls. */
  readonly canRotate: boolean;
}

type Which = 'api-key' | 'agent-service-key';

const NAMES: Readonly<Record<Which, string>> = {
  'api-key': 'API key',
  'agent-service-key': 'agent service key',
};

/**
 * The Organization Settings > API tab content: organization keys, agent keys and the sample
 * request. No secret is in this HTML: js/keys.js fetches the keys after load and shows them
 * only while revealed.
 */
export function keysPanel(options: KeysPanelOptions): Html {
  const { orgId, agentUserName, canRotate } = options;
  return html`<div class="stack" data-keys-panel data-org-id="${orgId}" data-can-rotate="${canRotate ? 'true' : 'false'}">
<p class="notice notice-error" data-keys-error role="alert" hidden></p>
<section class="card" aria-labelledby="org-keys-title">
  <div class="card-head">
    <h2 id="org-keys-title">Organization keys</h2>
    <p class="card-note">Scripts and agents send the API key in the <code>API-Key</code> header. A wrong organization key is refused, even with valid agent credentials.</p>
  </div>
  <dl class="fields">
    ${plainRow('Organization ID', 'org-id', orgId, 'Copy organization ID')}
    ${secretRow('api-key', 'API key', canRotate)}
  </dl>
</section>
<section class="card" aria-labelledby="agent-keys-title">
  <div class="card-head">
    <h2 id="agent-keys-title">Agent keys</h2>
    <p class="card-note">The agent authenticates with its user name and service key. Downloaded agents carry them in their configuration.</p>
  </div>
  <dl class="fields">
    ${plainRow('Agent user name', 'agent-user', agentUserName, 'Copy agent user name')}
    ${secretRow('agent-service-key', 'Agent service key', canRotate)}
  </dl>
</section>
<section class="card" aria-labelledby="rest-title">
  <div class="card-head">
    <h2 id="rest-title">REST API</h2>
    <p class="card-note">A ready-to-run <code>curl</code> command that calls the API with your own credentials.</p>
  </div>
  <div class="row-actions">
    <button type="button" class="button" data-sample>Generate Sample API Request</button>
  </div>
  <div class="sample" data-sample-output hidden>
    <p class="notice notice-error" data-sample-error role="alert" hidden></p>
    <div class="code-block" data-sample-block hidden>
      <pre><code data-sample-command></code></pre>
    </div>
    <p class="hint" data-sample-note></p>
    <div class="row-actions" data-sample-actions hidden>
      <button type="button" class="button button-small" data-copy-sample aria-label="Copy sample request">${copyIcon()}<span>Copy</span></button>
      <button type="button" class="button button-small button-quiet" data-hide-sample aria-label="Hide sample request">Hide</button>
    </div>
  </div>
</section>
${canRotate ? dialogs() : null}
</div>`;
}

function plainRow(label: string, id: string, value: string, copyLabel: string): Html {
  return html`<div class="field-row">
  <dt id="${id}-label">${label}</dt>
  <dd>
    <div class="value-line">
      <code class="value" id="${id}-value">${value}</code>
      <div class="actions">
        <button type="button" class="button button-small" data-copy-text="${value}" data-copy-what="${label}" aria-label="${copyLabel}">${copyIcon()}<span>Copy</span></button>
      </div>
    </div>
  </dd>
</div>`;
}

function secretRow(which: Which, label: string, canRotate: boolean): Html {
  const name = NAMES[which];
  return html`<div class="field-row" data-secret-row="${which}" data-secret-name="${name}">
  <dt id="${which}-label">${label}</dt>
  <dd>
    <div class="value-line">
      <code class="value secret" data-secret-value>${spinner()}<span class="muted">Loading…</span></code>
      <div class="actions">
        <button type="button" class="button button-small" data-reveal disabled aria-label="Reveal ${name}">${eyeIcon()}<span data-reveal-text>Reveal</span></button>
        <button type="button" class="button button-small" data-copy-secret disabled aria-label="Copy ${name}">${copyIcon()}<span>Copy</span></button>
      </div>
    </div>
    <div class="row-foot">
      <span class="meta" data-key-meta></span>
      ${canRotate ? html`<button type="button" class="link-button" data-rotate="${which}" disabled>Rotate ${name}</button>` : null}
    </div>
    <div data-pending></div>
  </dd>
</div>`;
}

function dialogs(): Html {
  const choices: readonly { seconds: number; label: string; note: string; checked?: boolean }[] = [
    { seconds: 0, label: 'At once', note: 'Anything still using the current key fails from now on.' },
    { seconds: 3600, label: 'In 1 hour', note: 'Enough for a quick redeploy.' },
    { seconds: 86_400, label: 'In 24 hours', note: 'Time to roll out new agents everywhere.', checked: true },
    { seconds: 604_800, label: 'In 7 days', note: 'For slow release trains.' },
  ];
  return html`<dialog class="dialog" id="rotate-dialog" aria-labelledby="rotate-title" aria-describedby="rotate-desc">
  <form class="dialog-body" data-rotate-form novalidate>
    <h2 id="rotate-title">Rotate <span data-rotate-name>key</span></h2>
    <p id="rotate-desc">A new key is created now and new downloads carry it. Agents and scripts that still use the current key keep working until the time you choose.</p>
    <fieldset class="choices">
      <legend>When should the current key stop working?</legend>
      ${choices.map(
        (choice) => html`<label class="choice">
        <input type="radio" name="grace" value="${choice.seconds}"${choice.checked === true ? html` checked` : null}>
        <span><span class="choice-title">${choice.label}</span><span class="choice-note">${choice.note}</span></span>
      </label>`,
      )}
    </fieldset>
    <p class="form-error" data-dialog-error role="alert" hidden></p>
    <div class="dialog-actions">
      <button type="button" class="button" data-dialog-cancel>Cancel</button>
      <button type="submit" class="button button-danger" data-rotate-confirm>Rotate key</button>
    </div>
  </form>
</dialog>
<dialog class="dialog" id="end-grace-dialog" aria-labelledby="end-grace-title" aria-describedby="end-grace-desc">
  <form class="dialog-body" data-end-grace-form novalidate>
    <h2 id="end-grace-title">Stop the previous <span data-end-grace-name>key</span> now?</h2>
    <p id="end-grace-desc">Agents and scripts that still use it are refused from now on. This cannot be undone.</p>
    <p class="form-error" data-dialog-error role="alert" hidden></p>
    <div class="dialog-actions">
      <button type="button" class="button" data-dialog-cancel>Cancel</button>
      <button type="submit" class="button button-danger" data-end-grace-confirm>End now</button>
    </div>
  </form>
</dialog>`;
}
