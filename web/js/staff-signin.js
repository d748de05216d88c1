// Staff sign-in — the staff session in the scene page (residents never sign in) and its dialog.
//
// StaffSession holds who is signed in and the session's CSRF token (the session itself is an HttpOnly
// cookie the page cannot read); every staff write goes through `write()`, which sends the token. The
// SignInDialog is a modal form (username, password) that shows the server's message when sign-in fails.
// Invariants: the page asks `GET /api/auth/me` on load only when this browser signed in before (a hint in
// localStorage, no secret in it), so a resident's visit makes no staff request at all; the password is
// never kept — the field is cleared whatever the outcome; a 401 on a write ends the session in the page.

import { ApiError, getJSON, sendJSON } from './api.js';
import { elementMaker, openModal } from './modal.js';

const HINT_KEY = 'civicSpace.staffHint';
export const EDIT_ROLES = ['editor', 'admin'];

export function hasStaffHint() {
  try {
    return localStorage.getItem(HINT_KEY) === '1';
  } catch {
    return false;
  }
}

function setHint(on) {
  try {
    if (on) localStorage.setItem(HINT_KEY, '1');
    else localStorage.removeItem(HINT_KEY);
  } catch {
    // not remembered: the next visit shows the sign-in link
  }
}

export class StaffSession {
  constructor() {
    this.user = null;
    this.csrf = null;
    this.listeners = new Set();
  }

  get signedIn() {
    return Boolean(this.user);
  }

  get canEdit() {
    return Boolean(this.user && EDIT_ROLES.includes(this.user.role));
  }

  /** listener(user | null) whenever the session starts or ends. */
  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(user, csrf) {
    this.user = user;
    this.csrf = csrf;
    setHint(Boolean(user));
    for (const listener of this.listeners) listener(user);
  }

  /** Picks up a session this browser still has (asks only when it signed in before). */
  async restore() {
    if (!hasStaffHint()) return null;
    try {
      const { user, csrf } = await getJSON('/api/auth/me');
      this.set(user, csrf);
    } catch {
      this.set(null, null); // expired or signed out elsewhere
    }
    return this.user;
  }

  async signIn(username, password) {
    const { body } = await sendJSON('/api/auth/login', { body: { username, password } });
    this.set(body.user, body.csrf);
    return body.user;
  }

  async signOut() {
    try {
      await sendJSON('/api/auth/logout', { body: {} });
    } finally {
      this.set(null, null);
    }
  }

  /** A staff write (see api.sendJSON); a 401 means the session ended: the page forgets it. */
  async write(url, options = {}) {
    try {
      return await sendJSON(url, { ...options, csrf: this.csrf });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.set(null, null);
      throw error;
    }
  }
}

export class SignInDialog {
  /**
   * @param {Document} doc
   * @param {{i18n, announcer, session: StaffSession, onSignedIn?: (user) => void}} options
   */
  constructor(doc, { i18n, announcer, session, onSignedIn = () => {} }) {
    Object.assign(this, { doc, i18n, announcer, session, onSignedIn });
    this.build();
  }

  open(opener) {
    this.showError(null);
    openModal(this.dialog, opener, this.username);
  }

  build() {
    const { doc, i18n } = this;
    const el = elementMaker(doc);
    const dialog = (this.dialog = el('dialog', { id: 'signin-dialog', className: 'dialog dialog-narrow' }));
    dialog.setAttribute('aria-labelledby', 'signin-title');
    const close = el('button', { type: 'button', className: 'button button-small dialog-close' }, i18n.t('dialog.close'));
    close.addEventListener('click', () => dialog.close());
    this.username = el('input', { id: 'signin-username', type: 'text', autocomplete: 'username', maxLength: 64, required: true });
    this.username.setAttribute('autocapitalize', 'none');
    this.password = el('input', { id: 'signin-password', type: 'password', autocomplete: 'current-password', maxLength: 256, required: true });
    this.error = el('p', { id: 'signin-error', className: 'field-error', hidden: true });
    this.error.setAttribute('role', 'alert');
    this.submit = el('button', { type: 'submit', className: 'button' }, i18n.t('staff.signIn'));
    const form = el(
      'form',
      { className: 'stack-form', noValidate: true },
      el('p', { className: 'dialog-note' }, i18n.t('staff.signInNote')),
      el('p', {}, el('label', { htmlFor: 'signin-username' }, i18n.t('staff.username')), this.username),
      el('p', {}, el('label', { htmlFor: 'signin-password' }, i18n.t('staff.password')), this.password),
      this.error,
      el('p', {}, this.submit),
    );
    for (const input of [this.username, this.password]) input.setAttribute('aria-describedby', 'signin-error');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.signIn();
    });
    dialog.append(el('div', { className: 'dialog-head' }, el('h2', { id: 'signin-title' }, i18n.t('staff.signInTitle')), close), form);
    dialog.addEventListener('close', () => {
      this.password.value = '';
    });
    doc.body.append(dialog);
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message || '';
    for (const input of [this.username, this.password]) {
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  async signIn() {
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this.showError(this.i18n.t('staff.missing'));
      (username ? this.password : this.username).focus();
      return;
    }
    if (this.busy) return;
    this.busy = true;
    this.submit.setAttribute('aria-disabled', 'true');
    try {
      const user = await this.session.signIn(username, password);
      this.password.value = '';
      this.showError(null);
      this.dialog.addEventListener('close', () => this.onSignedIn(user), { once: true });
      this.dialog.close();
      this.announcer.say(this.i18n.t('staff.signedInAs', { name: user.username, role: this.i18n.t(`staff.role.${user.role}`) }));
    } catch (error) {
      this.password.value = '';
      this.showError(this.i18n.t('staff.failed', { message: error.message }));
      this.password.focus();
    } finally {
      this.busy = false;
      this.submit.removeAttribute('aria-disabled');
    }
  }
}
