// Agent catalog: upload with a real progress bar (XMLHttpRequest upload events), the service's
// reason in words when it refuses an archive, withdraw and restore versions.
import {
  announce,
  busy,
  csrfToken,
  el,
  errorFrom,
  formatBytes,
  request,
  showError,
  timeElement,
} from './common.js';
import { VERSION_PATTERN } from './patterns.js';

const CONTENT_TYPES = { jar: 'application/java-archive', zip: 'application/zip' };

const list = document.querySelector('[data-catalog]');
const form = document.querySelector('[data-upload-form]');
if (list !== null) loadCatalog();
if (form !== null) setUpUpload(form);

async function loadCatalog() {
  const loading = list.querySelector('[data-catalog-loading]');
  const error = list.querySelector('[data-catalog-error]');
  loading.hidden = false;
  try {
    const { kinds } = await request('GET', '/api/v1/agents?withdrawn=true');
    showError(error, '');
    list.querySelector('[data-catalog-body]').replaceChildren(...kinds.map(kindSection));
  } catch (failure) {
    showError(error, `Could not load the catalog. ${failure.message}`);
  } finally {
    loading.hidden = true;
  }
}

function kindSection(kind) {
  const headingId = `kind-${kind.kind}`;
  const body =
    kind.versions.length === 0
      ? el('p', { className: 'notice' }, 'No version yet. Upload one above.')
      : el(
          'div',
          { className: 'table-wrap' },
          el(
            'table',
            { className: 'table', 'aria-labelledby': headingId },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ...['Version', 'Uploaded', 'Size', 'Entries', 'SHA-256', 'Status', 'Action'].map(header),
              ),
            ),
            el('tbody', {}, ...kind.versions.map((version) => versionRow(kind, version))),
          ),
        );
  return el(
    'section',
    { className: 'kind' },
    el(
      'div',
      { className: 'kind-head' },
      el('h3', { id: headingId }, `${kind.kind} agent`),
      kind.latest === null ? null : el('span', { className: 'badge' }, `latest ${kind.latest}`),
    ),
    el('p', { className: 'kind-meta' }, `${kind.description}.`),
    body,
  );
}

function header(text) {
  return el('th', { scope: 'col' }, text);
}

function versionRow(kind, version) {
  const label = `${kind.kind} ${version.version}`;
  const button = el(
    'button',
    {
      type: 'button',
      className: 'button button-small',
      'aria-label': `${version.withdrawn ? 'Restore' : 'Withdraw'} ${label}`,
    },
    version.withdrawn ? 'Restore' : 'Withdraw',
  );
  button.addEventListener('click', () =>
    setWithdrawn(button, kind.kind, version.version, !version.withdrawn),
  );
  return el(
    'tr',
    {},
    el('td', {}, el('strong', {}, version.version)),
    el('td', { className: 'nowrap' }, timeElement(version.uploadedAt)),
    el('td', { className: 'nowrap' }, formatBytes(version.size)),
    el('td', {}, String(version.entryCount)),
    el('td', {}, el('code', { title: version.sha256 }, `${version.sha256.slice(0, 12)}…`)),
    el(
      'td',
      {},
      version.withdrawn
        ? el('span', { className: 'badge badge-muted' }, 'withdrawn')
        : el('span', { className: 'badge badge-success' }, 'served'),
    ),
    el('td', {}, button),
  );
}

async function setWithdrawn(button, kind, version, withdrawn) {
  const done = busy(button);
  try {
    await request(
      'PATCH',
      `/api/v1/agents/${encodeURIComponent(kind)}/versions/${encodeURIComponent(version)}`,
      {
        withdrawn,
      },
    );
    await loadCatalog();
    announce(
      `${kind} ${version} ${withdrawn ? 'withdrawn: it is no longer served' : 'restored: it is served again'}`,
    );
    list.querySelector(`[aria-label="${withdrawn ? 'Restore' : 'Withdraw'} ${kind} ${version}"]`)?.focus();
  } catch (failure) {
    done();
    announce(`Could not ${withdrawn ? 'withdraw' : 'restore'} ${kind} ${version}. ${failure.message}`, {
      error: true,
    });
  }
}

function setUpUpload(form) {
  const kindSelect = form.querySelector('#up-kind');
  const versionInput = form.querySelector('#up-version');
  const fileInput = form.querySelector('#up-file');
  const error = form.querySelector('[data-upload-error]');
  const doneNotice = form.querySelector('[data-upload-done]');
  const progressBox = form.querySelector('[data-upload-progress]');
  const progress = progressBox.querySelector('progress');
  const label = progressBox.querySelector('[data-progress-label]');
  const percent = progressBox.querySelector('[data-progress-percent]');
  const submit = form.querySelector('[data-upload]');

  function invalid(input, message) {
    input.setAttribute('aria-invalid', 'true');
    showError(error, message);
    input.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, '');
    doneNotice.hidden = true;
    versionInput.removeAttribute('aria-invalid');
    fileInput.removeAttribute('aria-invalid');
    const version = versionInput.value.trim();
    const file = fileInput.files?.[0];
    if (!VERSION_PATTERN.test(version)) {
      invalid(
        versionInput,
        'Enter a version: letters, digits, dots, dashes or plus signs, starting with a letter or digit.',
      );
      return;
    }
    if (file === undefined) {
      invalid(fileInput, 'Choose the archive to upload.');
      return;
    }
    const kind = kindSelect.value;
    const archive = kindSelect.selectedOptions[0]?.dataset.archive ?? 'zip';
    const done = busy(submit);
    setProgress(0, 'Uploading…');
    progressBox.hidden = false;
    announce(`Uploading ${file.name}`);
    try {
      const row = await upload(kind, version, file, CONTENT_TYPES[archive] ?? 'application/octet-stream');
      doneNotice.textContent = `Added ${kind} ${row.version}: ${row.entryCount} entries, ${formatBytes(row.size)}. It is in the catalog now.`;
      doneNotice.hidden = false;
      form.reset();
      await loadCatalog();
    } catch (failure) {
      showError(error, failure.message);
      announce('The upload was refused', { error: true });
    } finally {
      progressBox.hidden = true;
      done();
    }
  });

  function setProgress(value, text) {
    if (value === null) progress.removeAttribute('value');
    else progress.value = value;
    label.textContent = text;
    percent.textContent = value === null ? '' : `${Math.round(value)}%`;
  }

  async function upload(kind, version, file, type) {
    const token = await csrfToken();
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/v1/agents/${encodeURIComponent(kind)}/versions/${encodeURIComponent(version)}`);
      xhr.setRequestHeader('content-type', type);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('x-csrf-token', token);
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) setProgress((event.loaded / event.total) * 100, 'Uploading…');
      });
      xhr.upload.addEventListener('load', () => setProgress(null, 'Checking the archive…'));
      xhr.addEventListener('load', () => {
        let data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch {
          data = null;
        }
        if (xhr.status === 201) resolve(data);
        else reject(uploadError(xhr.status, data, kind, version));
      });
      xhr.addEventListener('error', () =>
        reject(
          new Error(
            'The upload was interrupted: the connection closed. If the file is very large, it may exceed the size limit.',
          ),
        ),
      );
      xhr.send(file);
    });
  }
}

function uploadError(status, data, kind, version) {
  const reason = errorFrom(status, data).message;
  if (status === 422 && typeof data?.message === 'string') {
    return new Error(`The archive was refused: ${data.message.replace(/[.]?$/, '.')}`);
  }
  if (status === 409)
    return new Error(`${kind} ${version} is already in the catalog. Choose another version.`);
  if (status === 413) return new Error(`The file is too large. ${reason}`);
  return new Error(reason);
}
