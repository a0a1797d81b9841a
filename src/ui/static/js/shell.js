// The page shell: the user menu (a disclosure: Escape and clicks outside close it) and sign out.
import { announce, busy, request, showError } from './common.js';

const menu = document.querySelector('[data-user-menu]');
if (menu !== null) {
  const button = menu.querySelector('.user-button');
  const panel = menu.querySelector('.menu');
  const setOpen = (open, options = {}) => {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (!open && options.focus === true) button.focus();
  };
  button.addEventListener('click', () => setOpen(panel.hidden));
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      event.preventDefault();
      setOpen(false, { focus: true });
    }
  });
  document.addEventListener('click', (event) => {
    if (!panel.hidden && !menu.contains(event.target)) setOpen(false);
  });
  menu.addEventListener('focusout', (event) => {
    if (event.relatedTarget !== null && !menu.contains(event.relatedTarget)) setOpen(false);
  });
}

for (const button of document.querySelectorAll('[data-sign-out]')) {
  button.addEventListener('click', async () => {
    const done = busy(button);
    try {
      await request('DELETE', '/api/v1/session');
      window.location.assign('/logout');
    } catch (error) {
      if (error.status === 401) {
        window.location.assign('/logout');
        return;
      }
      done();
      const where = document.querySelector('[data-logout-error]');
      if (where !== null) showError(where, `Could not sign out: ${error.message}`);
      else announce(`Could not sign out: ${error.message}`, { error: true });
    }
  });
}
