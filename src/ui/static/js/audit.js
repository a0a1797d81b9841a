// Audit tab: newest first, a page at a time (Older follows nextBefore; Newer goes back).
import { el, formatTime, request, showError, timeElement } from './common.js';

const PAGE_SIZE = 25;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const ACTIONS = {
  'key.viewed': 'Viewed the keys',
  'key.rotated': 'Rotated a key',
  'key.grace_ended': 'Ended a grace period',
  'bundle.downloaded': 'Downloaded an agent',
  'link.created': 'Created a download link',
  'auth.failed': 'Failed authentication',
  'session.created': 'Signed in',
  'org.created': 'Created the organization',
  'user.added': 'Added a user',
  'user.password_set': 'Set a password',
  'agent.uploaded': 'Uploaded an agent',
  'agent.withdrawn': 'Withdrew an agent version',
  'agent.restored': 'Restored an agent version',
};

const panel = document.querySelector('[data-audit]');
if (panel !== null) setUp(panel);

function setUp(panel) {
  const orgId = panel.dataset.orgId;
  const rows = panel.querySelector('[data-audit-rows]');
  const loading = panel.querySelector('[data-audit-loading]');
  const error = panel.querySelector('[data-audit-error]');
  const newer = panel.querySelector('[data-audit-newer]');
  const older = panel.querySelector('[data-audit-older]');
  const status = panel.querySelector('[data-audit-page]');
  /** cursors[i] is the `before` of page i (null: the newest page). */
  const cursors = [null];
  let page = 0;
  let nextBefore = null;

  async function show(index, focusAfter) {
    loading.hidden = false;
    newer.disabled = true;
    older.disabled = true;
    showError(error, '');
    const before = cursors[index];
    const query = `limit=${PAGE_SIZE}${before === null ? '' : `&before=${before}`}`;
    try {
      const result = await request('GET', `/api/v1/orgs/${encodeURIComponent(orgId)}/audit?${query}`);
      page = index;
      nextBefore = result.nextBefore;
      rows.replaceChildren(...(result.entries.length === 0 ? [emptyRow()] : result.entries.map(entryRow)));
      status.textContent = `Page ${page + 1}${result.entries.length === 0 ? '' : ` · ${result.entries.length} entries`}`;
    } catch (failure) {
      showError(error, `Could not load the audit log. ${failure.message}`);
    } finally {
      loading.hidden = true;
      newer.disabled = page === 0;
      older.disabled = nextBefore === null;
      if (focusAfter?.disabled === true) (focusAfter === older ? newer : older).focus();
    }
  }

  older.addEventListener('click', () => {
    if (nextBefore === null) return;
    cursors[page + 1] = nextBefore;
    show(page + 1, older);
  });
  newer.addEventListener('click', () => {
    if (page > 0) show(page - 1, newer);
  });
  show(0, null);
}

function emptyRow() {
  return el('tr', {}, el('td', { colSpan: 4, className: 'muted' }, 'Nothing has been recorded here yet.'));
}

function entryRow(entry) {
  return el(
    'tr',
    {},
    el('td', { className: 'nowrap' }, timeElement(entry.at, { seconds: true })),
    el('td', { className: 'nowrap' }, actorText(entry.actor)),
    el(
      'td',
      {},
      ACTIONS[entry.action] ?? entry.action,
      el('code', { className: 'action-code' }, entry.action),
    ),
    el('td', { className: 'detail' }, ...detailParts(entry)),
  );
}

function actorText(actor) {
  const at = actor.indexOf(':');
  const type = at < 0 ? actor : actor.slice(0, at);
  const rest = at < 0 ? '' : actor.slice(at + 1);
  if (type === 'user') return rest;
  if (type === 'ip') return `Unknown caller (${rest})`;
  if (type === 'agent') return `Agent of ${rest}`;
  if (type === 'cli') return `Command line (${rest})`;
  if (actor === 'link') return 'Signed link';
  return actor;
}

function detailParts(entry) {
  const parts = [];
  if (entry.keyId !== null) parts.push(el('code', {}, entry.keyId));
  const detail = entry.detail ?? {};
  const text = Object.entries(detail)
    .filter(([name, value]) => !isEmpty(value) && name !== 'keyIds')
    .map(([name, value]) => `${name}: ${detailValue(value)}`)
    .join(' · ');
  if (text !== '') {
    if (parts.length > 0) parts.push(' · ');
    parts.push(text);
  }
  return parts.length === 0 ? ['—'] : parts;
}

function isEmpty(value) {
  return value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/** Arrays as lists, ISO times in the reader's time zone, the rest as text. */
function detailValue(value) {
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'string' && ISO_TIME.test(value)) return formatTime(value, { seconds: true });
  return String(value);
}
