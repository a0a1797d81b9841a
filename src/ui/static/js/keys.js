// Organization Settings > API tab: keys fetched after load and shown only while revealed (hiding
// removes the text from the page), copy, rotation with a grace period, ending it, sample request.
import { announce, busy, copyText, el, formatTime, relativeTime, request, showError } from './common.js';
import { KEY_PURPOSES as WHICH } from './patterns.js';

const MASK = '••••••••••••••••••••••••••••••';

const panel = document.querySelector('[data-keys-panel]');
if (panel !== null) setUp(panel);

function setUp(panel) {
  const orgId = panel.dataset.orgId;
  const canRotate = panel.dataset.canRotate === 'true';
  const base = `/api/v1/orgs/${encodeURIComponent(orgId)}/keys`;
  const panelError = panel.querySelector('[data-keys-error]');
  /** The keys as last fetched; kept in memory only, never written to the page unless revealed. */
  let keys = null;
  const revealed = new Set();
  /** Opens the end-grace confirmation (set up for admins only). */
  let openEndGrace = () => {};
  const rows = Object.fromEntries(
    WHICH.map((which) => [which, panel.querySelector(`[data-secret-row="${which}"]`)]),
  );

  const nameOf = (which) => rows[which].dataset.secretName;
  const secretOf = (which) => (which === 'api-key' ? keys.apiKey : keys.agent.serviceKey);
  const keyIdOf = (which) => (which === 'api-key' ? keys.keyIds.apiKey : keys.keyIds.agentServiceKey);
  const versionOf = (which) => (which === 'api-key' ? keys.versions.apiKey : keys.versions.agentServiceKey);

  function render(which) {
    const row = rows[which];
    const value = row.querySelector('[data-secret-value]');
    const show = revealed.has(which);
    // replaceChildren drops the previous text nodes: a hidden secret is gone from the DOM.
    if (show) {
      value.replaceChildren(secretOf(which));
    } else {
      value.replaceChildren(
        el('span', { className: 'key-id' }, `${keyIdOf(which)}_`),
        el('span', { className: 'mask', 'aria-hidden': 'true' }, MASK),
        el('span', { className: 'visually-hidden' }, '(secret part hidden)'),
      );
    }
    value.classList.toggle('is-revealed', show);
    const reveal = row.querySelector('[data-reveal]');
    reveal.setAttribute('aria-label', `${show ? 'Hide' : 'Reveal'} ${nameOf(which)}`);
    reveal.querySelector('[data-reveal-text]').textContent = show ? 'Hide' : 'Reveal';
    for (const button of row.querySelectorAll('[data-reveal], [data-copy-secret], [data-rotate]')) {
      button.disabled = false;
    }
    row.querySelector('[data-key-meta]').textContent = `Version ${versionOf(which)}`;
    renderPending(which);
  }

  function renderPending(which) {
    const holder = rows[which].querySelector('[data-pending]');
    const pending = keys.expiries.filter((expiry) => expiry.which === which);
    holder.replaceChildren(
      ...pending.map((expiry) =>
        el(
          'div',
          { className: 'pending' },
          el(
            'p',
            {},
            'Previous key ',
            el('code', {}, expiry.keyId),
            ` (version ${expiry.version}) keeps working until `,
            el('time', { dateTime: expiry.expiresAt }, formatTime(expiry.expiresAt)),
            `, ${relativeTime(expiry.expiresAt)}.`,
          ),
          canRotate
            ? el(
                'button',
                {
                  type: 'button',
                  className: 'button button-small',
                  'aria-label': `End now: stop the previous ${nameOf(which)}`,
                  onclick: () => openEndGrace(which),
                },
                'End now',
              )
            : null,
        ),
      ),
    );
  }

  async function load() {
    keys = await request('GET', base);
    for (const which of WHICH) render(which);
  }

  load().catch((error) => {
    for (const which of WHICH) {
      rows[which]
        .querySelector('[data-secret-value]')
        .replaceChildren(el('span', { className: 'muted' }, 'Not available'));
    }
    showError(panelError, `Could not load the keys. ${error.message}`);
  });

  for (const which of WHICH) {
    const row = rows[which];
    row.querySelector('[data-reveal]').addEventListener('click', () => {
      if (revealed.has(which)) revealed.delete(which);
      else revealed.add(which);
      render(which);
    });
    row
      .querySelector('[data-copy-secret]')
      .addEventListener('click', () => copyText(secretOf(which), `the ${nameOf(which)}`));
  }

  for (const button of panel.querySelectorAll('[data-copy-text]')) {
    button.addEventListener('click', () =>
      copyText(button.dataset.copyText, `the ${button.dataset.copyWhat.toLowerCase()}`),
    );
  }

  if (canRotate) setUpDialogs();
  setUpSample();

  function setUpDialogs() {
    const rotateDialog = document.getElementById('rotate-dialog');
    const rotateForm = rotateDialog.querySelector('[data-rotate-form]');
    const endDialog = document.getElementById('end-grace-dialog');
    const endForm = endDialog.querySelector('[data-end-grace-form]');
    let target = null;
    let opener = null;

    for (const dialog of [rotateDialog, endDialog]) {
      dialog.querySelector('[data-dialog-cancel]').addEventListener('click', () => dialog.close());
      dialog.addEventListener('close', () => opener?.focus());
    }

    for (const link of panel.querySelectorAll('[data-rotate]')) {
      link.addEventListener('click', () => {
        target = link.dataset.rotate;
        opener = link;
        rotateDialog.querySelector('[data-rotate-name]').textContent = nameOf(target);
        rotateForm.querySelector('input[value="86400"]').checked = true;
        showError(rotateDialog.querySelector('[data-dialog-error]'), '');
        rotateDialog.showModal();
      });
    }

    rotateForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const which = target;
      const graceSeconds = Number(rotateForm.querySelector('input[name="grace"]:checked').value);
      const error = rotateDialog.querySelector('[data-dialog-error]');
      const done = busy(rotateForm.querySelector('[data-rotate-confirm]'));
      try {
        const result = await request('POST', `${base}/${which}/rotate`, { graceSeconds });
        await load();
        revealed.add(which);
        render(which);
        rotateDialog.close();
        const previous =
          graceSeconds === 0
            ? 'The previous key has stopped working.'
            : `The previous key keeps working until ${formatTime(result.previous.expiresAt)}.`;
        announce(`New ${nameOf(which)} created. ${previous}`);
      } catch (failure) {
        showError(error, `Could not rotate the ${nameOf(which)}. ${failure.message}`);
      } finally {
        done();
      }
    });

    openEndGrace = (which) => {
      target = which;
      opener = document.activeElement;
      endDialog.querySelector('[data-end-grace-name]').textContent = nameOf(which);
      showError(endDialog.querySelector('[data-dialog-error]'), '');
      endDialog.showModal();
    };

    endForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const which = target;
      const error = endDialog.querySelector('[data-dialog-error]');
      const done = busy(endForm.querySelector('[data-end-grace-confirm]'));
      try {
        await request('POST', `${base}/${which}/end-grace`);
        await load();
        opener = rows[which].querySelector('[data-rotate]');
        endDialog.close();
        announce(`The previous ${nameOf(which)} no longer works.`);
      } catch (failure) {
        showError(error, `Could not end the grace period. ${failure.message}`);
      } finally {
        done();
      }
    });
  }

  function setUpSample() {
    const button = panel.querySelector('[data-sample]');
    const output = panel.querySelector('[data-sample-output]');
    const block = output.querySelector('[data-sample-block]');
    const command = output.querySelector('[data-sample-command]');
    const note = output.querySelector('[data-sample-note]');
    const actions = output.querySelector('[data-sample-actions]');
    const error = output.querySelector('[data-sample-error]');
    let text = '';

    const clear = () => {
      text = '';
      command.replaceChildren();
      note.textContent = '';
      block.hidden = true;
      actions.hidden = true;
    };

    button.addEventListener('click', async () => {
      const done = busy(button);
      output.hidden = false;
      showError(error, '');
      clear();
      try {
        const sample = await request('GET', `${base}/sample-request`);
        text = sample.command;
        command.textContent = text;
        note.textContent = sample.note;
        block.hidden = false;
        actions.hidden = false;
        announce('Sample API request ready');
      } catch (failure) {
        showError(error, `Could not generate the sample request. ${failure.message}`);
      } finally {
        done();
      }
    });
    output
      .querySelector('[data-copy-sample]')
      .addEventListener('click', () => copyText(text, 'the sample request'));
    output.querySelector('[data-hide-sample]').addEventListener('click', () => {
      clear();
      output.hidden = true;
      button.focus();
    });
  }
}
