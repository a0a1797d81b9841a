// Sign in: POST /api/v1/session, then on to the page that was asked for.
import { busy, request, showError } from './common.js';

const form = document.querySelector('[data-login-form]');
if (form !== null) {
  const email = form.querySelector('#email');
  const password = form.querySelector('#password');
  const error = form.querySelector('[data-login-error]');
  const submit = form.querySelector('[data-login-submit]');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, '');
    email.removeAttribute('aria-invalid');
    password.removeAttribute('aria-invalid');
    const missing = [email, password].find((input) => input.value.trim() === '');
    if (missing !== undefined) {
      missing.setAttribute('aria-invalid', 'true');
      showError(error, missing === email ? 'Enter your e-mail address.' : 'Enter your password.');
      missing.focus();
      return;
    }
    const done = busy(submit);
    try {
      await request(
        'POST',
        '/api/v1/session',
        { email: email.value.trim(), password: password.value },
        { csrf: false },
      );
      window.location.assign(form.dataset.next || '/');
    } catch (failure) {
      done();
      const message =
        failure.status === 401
          ? 'The e-mail address or the password is not right. Try again.'
          : failure.message;
      showError(error, message);
      password.value = '';
      password.focus();
    }
  });
}
