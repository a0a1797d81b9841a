// Download agent: a short-lived signed link lets the browser stream the file natively; beside the
// form, the SHA-256 and how to verify it. "Copy CI link" makes a longer-lived link for pipelines.
import { announce, busy, copyText, el, formatTime, request, showError } from './common.js';

const DOWNLOAD_TTL_SECONDS = 300;
const KEY_PATH = '/.well-known/agentpack/signing-key.pem';

const panel = document.querySelector('[data-download-panel]');
if (panel !== null) setUp(panel);

function setUp(panel) {
  const orgId = panel.dataset.orgId;
  const kinds = JSON.parse(document.getElementById('download-kinds').textContent);
  const form = panel.querySelector('[data-download-form]');
  const kindSelect = form.querySelector('#dl-kind');
  const versionSelect = form.querySelector('#dl-version');
  const error = form.querySelector('[data-download-error]');
  const verifyBody = panel.querySelector('[data-verify-body]');
  const settingInputs = [...form.querySelectorAll('[data-setting]')];
  const portInput = form.querySelector('#proxy-port');
  let preview = 0;

  const kind = () => kinds.find((k) => k.kind === kindSelect.value) ?? kinds[0];
  const format = () => form.querySelector('input[name="format"]:checked').value;
  const agentPath = (version) =>
    `/api/v1/orgs/${encodeURIComponent(orgId)}/agents/${encodeURIComponent(kindSelect.value)}/${encodeURIComponent(version)}`;

  function settings() {
    const out = {};
    for (const input of settingInputs) {
      const value = input.value.trim();
      if (value !== '') out[input.dataset.setting] = value;
    }
    return out;
  }

  /** A message when the form cannot be sent as it is, else ''. */
  function problem() {
    portInput.removeAttribute('aria-invalid');
    const port = portInput.value.trim();
    if (port !== '' && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
      portInput.setAttribute('aria-invalid', 'true');
      return 'The proxy port must be a number from 1 to 65535.';
    }
    const given = settings();
    if (Object.keys(given).length > 0 && given['proxy.host'] === undefined) {
      return 'Enter the proxy host, or clear the other proxy settings.';
    }
    return '';
  }

  kindSelect.addEventListener('change', () => {
    const current = kind();
    versionSelect.replaceChildren(
      el('option', { value: 'latest' }, `Latest (${current.latest})`),
      ...current.versions.map((version) => el('option', { value: version }, version)),
    );
    form.querySelector('[data-kind-hint]').textContent = current.description;
    form.querySelector('[data-embedded-title]').textContent =
      current.archive === 'jar' ? 'JAR with embedded configuration' : 'Zip with embedded configuration';
    form
      .querySelector('[data-config-note]')
      .replaceChildren('Just ', el('code', {}, current.configName), ', for an agent you already have.');
    showPreview();
  });
  versionSelect.addEventListener('change', showPreview);
  for (const radio of form.querySelectorAll('input[name="format"]'))
    radio.addEventListener('change', showPreview);
  for (const input of settingInputs) input.addEventListener('change', showPreview);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const link = await createLink(
      form.querySelector('[data-download]'),
      DOWNLOAD_TTL_SECONDS,
      'Preparing the download…',
    );
    if (link === null) return;
    window.location.assign(link.url);
    announce('Download started');
    await showVerification(link, 'download');
  });

  const ciOutput = panel.querySelector('[data-ci-output]');
  const ciUrl = ciOutput.querySelector('[data-ci-url]');
  form.querySelector('[data-ci-link]').addEventListener('click', async (event) => {
    const ttl = Number(form.querySelector('#ci-ttl').value);
    const link = await createLink(event.currentTarget, ttl, 'Creating the CI link…');
    if (link === null) return;
    ciUrl.value = link.url;
    ciOutput.querySelector('[data-ci-expiry]').textContent =
      `Works without credentials until ${formatTime(link.expiresAt)}. Anyone holding it can download this agent and its keys: keep it in your CI secrets.`;
    ciOutput.querySelector('[data-ci-command]').textContent = `curl -fsSLOJ '${link.url}'`;
    ciOutput.hidden = false;
    await copyText(link.url, 'the CI link');
    await showVerification(link, 'ci');
  });
  ciOutput
    .querySelector('[data-copy-ci]')
    .addEventListener('click', () => copyText(ciUrl.value, 'the CI link'));

  /** POST .../links with the form's choices; null (and a message) when that fails. */
  async function createLink(button, ttlSeconds, doing) {
    showError(error, '');
    const wrong = problem();
    if (wrong !== '') {
      showError(error, wrong);
      return null;
    }
    const done = busy(button);
    announce(doing);
    const given = settings();
    const body = {
      ttlSeconds,
      format: format(),
      ...(Object.keys(given).length > 0 ? { settings: given } : {}),
    };
    try {
      return await request('POST', `${agentPath(versionSelect.value)}/links`, body);
    } catch (failure) {
      showError(error, `Could not prepare the agent. ${failure.message}`);
      return null;
    } finally {
      done();
    }
  }

  /** The verification panel for what the form would download now (no link yet). */
  async function showPreview() {
    const ticket = ++preview;
    if (problem() !== '') return;
    if (format() === 'config') return showConfigNote();
    if (format() === 'zip') return showZipSteps(null);
    if (Object.keys(settings()).length > 0) {
      verifyBody.replaceChildren(
        el(
          'p',
          { className: 'muted' },
          'Proxy settings change the file: its SHA-256 appears here when you download it or create a CI link.',
        ),
      );
      return;
    }
    verifyBody.replaceChildren(
      el(
        'p',
        { className: 'loading' },
        el('span', { className: 'spinner', 'aria-hidden': 'true' }),
        'Computing the SHA-256…',
      ),
    );
    try {
      const path = agentPath(versionSelect.value);
      const statement = parseStatement(await request('GET', `${path}/bundle.sha256`));
      if (ticket !== preview) return;
      const exact = agentPath(statement.version ?? versionSelect.value);
      showEmbeddedSteps(statement, `${exact}/bundle.sha256`, `${exact}/bundle.sig`, null);
    } catch (failure) {
      if (ticket === preview)
        verifyBody.replaceChildren(
          el(
            'p',
            { className: 'notice notice-error', role: 'alert' },
            `Could not get the SHA-256. ${failure.message}`,
          ),
        );
    }
  }

  /** After a download or a CI link: the files of exactly that bundle, through the link itself. */
  async function showVerification(link, source) {
    preview += 1;
    if (format() === 'config') return showConfigNote();
    if (format() === 'zip') return showZipSteps(link);
    const linkPath = new URL(link.url).pathname;
    let statement = { sha256: link.sha256, fileName: 'agent', version: null };
    try {
      statement = parseStatement(
        await request('GET', `${linkPath}/bundle.sha256`, undefined, { csrf: false }),
      );
    } catch {
      // The digest from the link answer is enough to show; the file name falls back.
    }
    const note =
      source === 'download'
        ? 'The .sha256 and .sig links above belong to this download and work for 5 minutes.'
        : 'For CI: add /bundle.sha256 and /bundle.sig to the link to fetch the verification files.';
    showEmbeddedSteps(statement, `${linkPath}/bundle.sha256`, `${linkPath}/bundle.sig`, note);
  }

  function showEmbeddedSteps(statement, sha256Href, sigHref, note) {
    const file = statement.fileName;
    verifyBody.replaceChildren(
      el(
        'div',
        { className: 'verify' },
        el(
          'div',
          {},
          el('p', { className: 'verify-label' }, 'File'),
          el('code', { className: 'digest' }, file),
        ),
        el(
          'div',
          {},
          el('p', { className: 'verify-label' }, 'SHA-256'),
          el('code', { className: 'digest', 'data-sha256': statement.sha256 }, statement.sha256),
        ),
        el(
          'ul',
          { className: 'file-links', 'aria-label': 'Verification files' },
          el('li', {}, el('a', { href: sha256Href, download: `${file}.sha256` }, `${file}.sha256`)),
          el('li', {}, el('a', { href: sigHref, download: `${file}.sig` }, `${file}.sig`)),
          el(
            'li',
            {},
            // The key that signed this statement (it may be older than the current one).
            el(
              'a',
              {
                href: statement.keyId
                  ? `/.well-known/agentpack/signing-keys/${statement.keyId}.pem`
                  : KEY_PATH,
                download: 'signing-key.pem',
              },
              'signing-key.pem (public key)',
            ),
          ),
        ),
        el('p', { className: 'hint' }, '1. Check the digest of the file:'),
        codeBlock(`sha256sum -c ${shellWord(`${file}.sha256`)}`),
        el('p', { className: 'hint' }, '2. Check the signature over the digest:'),
        codeBlock(
          `openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in ${shellWord(`${file}.sha256`)} -sigfile ${shellWord(`${file}.sig`)}`,
        ),
        note === null ? null : el('p', { className: 'hint' }, note),
      ),
    );
  }

  function showZipSteps(link) {
    verifyBody.replaceChildren(
      el(
        'div',
        { className: 'verify' },
        el(
          'p',
          {},
          'The zip holds the untouched agent, its configuration, ',
          el('code', {}, 'SHA256SUMS'),
          ' and its signature ',
          el('code', {}, 'SHA256SUMS.sig'),
          '.',
        ),
        link === null
          ? null
          : el(
              'div',
              {},
              el('p', { className: 'verify-label' }, 'SHA-256 of the agent with embedded configuration'),
              el('code', { className: 'digest' }, link.sha256),
            ),
        el(
          'ul',
          { className: 'file-links', 'aria-label': 'Verification files' },
          el(
            'li',
            {},
            el('a', { href: KEY_PATH, download: 'signing-key.pem' }, 'signing-key.pem (public key)'),
          ),
        ),
        el('p', { className: 'hint' }, '1. After unzipping, check the digests in that folder:'),
        codeBlock('sha256sum -c SHA256SUMS'),
        el('p', { className: 'hint' }, '2. Check the signature over them:'),
        codeBlock(
          'openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig',
        ),
      ),
    );
  }

  function showConfigNote() {
    verifyBody.replaceChildren(
      el(
        'p',
        { className: 'notice notice-warn' },
        `The configuration file alone is not signed. It holds this organization's keys: keep it where only the agent can read it.`,
      ),
    );
  }

  showPreview();
}

/** The `.sha256` statement: `<hex>  <file>` then `# key: value` lines. */
function parseStatement(text) {
  const lines = String(text).split('\n');
  const [sha256 = '', ...rest] = (lines[0] ?? '').split('  ');
  const fields = {};
  for (const line of lines.slice(1)) {
    const match = /^# ([a-z-]+): (.*)$/.exec(line);
    if (match !== null) fields[match[1]] = match[2];
  }
  return {
    sha256,
    fileName: rest.join('  ').replace(/^\*/, ''),
    version: fields.version ?? null,
    keyId: /^[0-9a-f]{16}$/.test(fields['key-id'] ?? '') ? fields['key-id'] : null,
  };
}

function codeBlock(text) {
  return el('div', { className: 'code-block' }, el('pre', {}, el('code', {}, text)));
}

/** Quotes a file name for a POSIX shell when it needs it. */
function shellWord(word) {
  return /^[A-Za-z0-9_./:=@+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
