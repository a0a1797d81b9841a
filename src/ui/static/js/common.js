// Shared by the page scripts: the JSON API (with the session's CSRF token on every change),
// announcements through the live region, busy buttons, the clipboard and times.

/** An API answer that was not a success, with the service's message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let sessionInfo = null;

/** GET /api/v1/session once per page: the signed-in user and the CSRF token. */
export function session() {
  if (sessionInfo === null) {
    sessionInfo = request('GET', '/api/v1/session', undefined, { csrf: false }).catch((error) => {
      sessionInfo = null;
      throw error;
    });
  }
  return sessionInfo;
}

/** The session's CSRF token, for requests made outside `request` (XMLHttpRequest uploads). */
export async function csrfToken() {
  return (await session()).csrfToken;
}

/**
 * A JSON API call. Requests that change state carry X-CSRF-Token. Resolves to the parsed body
 * (null for 204); rejects with an ApiError whose message can be shown as it is.
 */
export async function request(method, path, body, options = {}) {
  const headers = { accept: 'application/json' };
  if (options.csrf !== false && method !== 'GET' && method !== 'HEAD')
    headers['x-csrf-token'] = await csrfToken();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(
      0,
      'NETWORK',
      'The service could not be reached. Check your connection and try again.',
    );
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) throw errorFrom(response.status, data);
  return data;
}

/** The ApiError for a failed answer, with a message a person can act on. */
export function errorFrom(status, data) {
  const code = typeof data?.error === 'string' ? data.error : `HTTP_${status}`;
  const said = typeof data?.message === 'string' ? data.message : '';
  if (status === 401) {
    return new ApiError(status, code, 'Your session has ended. Sign in again to continue.');
  }
  if (status >= 500 || said === '') {
    return new ApiError(
      status,
      code,
      `The service could not do this (HTTP ${status}). Try again in a moment.`,
    );
  }
  return new ApiError(status, code, capitalize(said));
}

function capitalize(text) {
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** Shows `message` in an error element (role="alert"); an empty message hides it. */
export function showError(element, message) {
  if (element === null) return;
  element.textContent = message;
  element.hidden = message === '';
}

let toastTimer = 0;

/** Says something through the page's live region (a toast that fades). */
export function announce(message, options = {}) {
  const region = document.getElementById('announcer');
  if (region === null) return;
  window.clearTimeout(toastTimer);
  region.textContent = '';
  region.classList.toggle('is-error', options.error === true);
  // A fresh text node in the next frame makes screen readers repeat an identical message.
  window.requestAnimationFrame(() => {
    region.textContent = message;
    region.classList.add('is-visible');
    toastTimer = window.setTimeout(
      () => region.classList.remove('is-visible'),
      options.error === true ? 6000 : 2800,
    );
  });
}

/** Marks a button busy (disabled, spinner) until the returned function is called. */
export function busy(button) {
  if (button === null) return () => {};
  const spinner = document.createElement('span');
  spinner.className = 'spinner';
  spinner.setAttribute('aria-hidden', 'true');
  const icon = button.querySelector('.icon');
  if (icon !== null) icon.hidden = true;
  button.prepend(spinner);
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  return () => {
    spinner.remove();
    if (icon !== null) icon.hidden = false;
    button.disabled = false;
    button.removeAttribute('aria-busy');
  };
}

/** Copies text and announces it; says so plainly when the browser refuses. */
export async function copyText(text, what) {
  try {
    if (navigator.clipboard === undefined) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    announce(`Copied ${what}`);
    return true;
  } catch {
    announce(
      `Could not copy ${what}: this browser blocked the clipboard. Select the text and copy it instead.`,
      {
        error: true,
      },
    );
    return false;
  }
}

const serverOffset = (() => {
  const now = Number(document.body.dataset.serverNow);
  return Number.isFinite(now) && now > 0 ? now - Date.now() : 0;
})();

/** Now, on the server's clock (pages carry it), in ms. */
export function serverNow() {
  return Date.now() + serverOffset;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});

const preciseFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

/** "1 Jan 2030, 13:00 UTC" in the reader's time zone (with seconds when asked). */
export function formatTime(iso, options = {}) {
  return (options.seconds === true ? preciseFormat : timeFormat).format(new Date(iso));
}

const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "in 1 hour", "3 minutes ago", against the server's clock. */
export function relativeTime(iso) {
  const seconds = (new Date(iso).getTime() - serverNow()) / 1000;
  const size = Math.abs(seconds);
  if (size < 45) return seconds >= 0 ? 'in a few seconds' : 'just now';
  if (size < 45 * 60) return relativeFormat.format(Math.round(seconds / 60), 'minute');
  if (size < 36 * 3600) return relativeFormat.format(Math.round(seconds / 3600), 'hour');
  return relativeFormat.format(Math.round(seconds / 86400), 'day');
}

/** A <time> element showing the local time, with the relative time when asked. */
export function timeElement(iso, options = {}) {
  const element = document.createElement('time');
  element.dateTime = iso;
  const text = formatTime(iso, options);
  element.textContent = options.relative === true ? `${text} (${relativeTime(iso)})` : text;
  return element;
}

/** Builds an element: el('p', { className: 'x' }, 'text', child). */
export function el(tag, properties = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name.startsWith('data-') || name.startsWith('aria-') || name === 'role' || name === 'download') {
      element.setAttribute(name, String(value));
    } else {
      element[name] = value;
    }
  }
  element.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** Bytes for people: 1.2 MB. */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
