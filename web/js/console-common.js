// Console common — what the three staff pages of public meetings share (/staff/events, the chair's console,
// the caption console): the page chrome, the polite announcer, the existing staff sign-in (StaffSession and
// its dialog), staff writes that turn every refusal into words, and lists re-rendered without losing focus.
//
// Invariants: these pages always ask who is signed in (`/api/auth/me`; a resident has no reason to open
// them); an error is shown in the page's alert region in words (the server's message, the code kept for
// support) and never only as a colour; a 409 from a console action is an error like any other (the caller
// of an edit reads `body.current` itself); re-rendering a list keeps focus on the control with the same
// `data-key`, else on its section's heading, so a live update never throws a keyboard user back to the top.

import { ApiError, getJSON, request } from './api.js';
import { Announcer } from './announcer.js';
import { elementMaker } from './modal.js';
import { setUpChrome, startPage } from './site.js';
import { SignInDialog, StaffSession } from './staff-signin.js';

export { ApiError };

/** `focusAfterSignIn`: the id of what takes focus once signed in by the dialog (default: the page's heading). */
export async function startStaffPage(doc = document, { focusAfterSignIn = null } = {}) {
  const { prefs, i18n } = await startPage(doc);
  setUpChrome({ doc, i18n, prefs });
  const announcer = new Announcer(doc.getElementById('announcer'));
  const session = new StaffSession();
  const el = elementMaker(doc);
  const errorBox = doc.getElementById('console-error');
  const link = doc.getElementById('staff-signin');
  const signOut = doc.getElementById('sign-out');
  const who = doc.getElementById('staff-who');
  const heading = doc.querySelector('h1');
  heading.tabIndex = -1;
  const afterSignIn = () => (doc.getElementById(focusAfterSignIn ?? '') || heading).focus();
  const dialog = new SignInDialog(doc, { i18n, announcer, session, onSignedIn: afterSignIn });
  link.addEventListener('click', () => dialog.open(link));
  signOut.addEventListener('click', async () => {
    await session.signOut().catch(() => {});
    announcer.say(i18n.t('staff.signedOut'));
    link.focus();
  });
  const roleName = (role) => i18n.t(`console.role.${role}`);
  session.onChange((user) => {
    link.hidden = Boolean(user);
    signOut.hidden = !user;
    who.textContent = user ? i18n.t('staff.signedInAs', { name: user.username, role: roleName(user.role) }) : i18n.t('console.staff.notSignedIn');
  });

  /** Words for an error: the known codes in the page's language, else the server's message with its code. */
  const describe = (error) => {
    const code = error?.code || 'unknown';
    const known = `console.errors.${code}`;
    const detail = i18n.has(known) ? i18n.t(known, { seconds: error.retryAfter ?? '' }) : error?.message || code;
    return i18n.t('console.error', { message: detail, code });
  };
  const showError = (error) => {
    errorBox.replaceChildren(el('p', {}, typeof error === 'string' ? error : describe(error)));
  };
  const clearError = () => errorBox.replaceChildren();

  /** A staff write: JSON `body` (or FormData), CSRF header; resolves to the answer's body; rejects as ApiError. */
  const write = async (url, { method = 'POST', body = undefined } = {}) => {
    if (body instanceof FormData) {
      const headers = { Accept: 'application/json', 'X-CSRF-Token': session.csrf || '' };
      try {
        const response = await request(url, { method, headers, body });
        return await response.json();
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) session.set(null, null);
        throw error;
      }
    }
    const answer = await session.write(url, { method, body });
    if (answer.status === 409) {
      const detail = answer.body?.error ?? {};
      const error = new ApiError(detail.code || 'conflict', detail.message || 'conflict', 409);
      error.current = answer.body?.current ?? null;
      throw error;
    }
    return answer.body;
  };

  /** Runs one staff action: on success says `done` politely, on failure shows why. Resolves to the answer or null. */
  const act = async (run, done = null) => {
    try {
      const result = await run();
      clearError();
      if (done) announcer.say(typeof done === 'function' ? done(result) : done);
      return result;
    } catch (error) {
      showError(error);
      return null;
    }
  };

  const restore = async () => {
    try {
      const { user, csrf } = await getJSON('/api/auth/me');
      session.set(user, csrf);
    } catch {
      session.set(null, null);
    }
    return session.user;
  };

  return { doc, i18n, prefs, announcer, session, el, describe, showError, clearError, write, act, restore, roleName };
}

/**
 * Replaces `list`'s children with `items` built by `build(item)` (each returns an <li> whose controls carry
 * `data-key`), unless they are the same as last time; the focused control keeps focus through the change.
 */
export function renderList(list, items, build, fallbackFocus = null) {
  const signature = JSON.stringify(items);
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  const doc = list.ownerDocument;
  const active = doc.activeElement;
  const hadFocus = active && list.contains(active);
  const key = hadFocus ? active.dataset.key : null;
  list.replaceChildren(...items.map(build));
  if (!hadFocus) return;
  const same = key ? list.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
  (same || list.querySelector('[data-key]') || fallbackFocus || sectionHeading(list))?.focus();
}

/** The heading of the section holding `node`, focusable by script (where focus goes when its list empties). */
function sectionHeading(node) {
  const heading = node.closest('section')?.querySelector('h2');
  if (heading && !heading.hasAttribute('tabindex')) heading.tabIndex = -1;
  return heading;
}

/** A button with its text, a `data-key` for renderList and a click handler. */
export function button(doc, text, key, onClick, className = 'button button-small') {
  const node = doc.createElement('button');
  node.type = 'button';
  node.className = className;
  node.textContent = text;
  node.dataset.key = key;
  node.addEventListener('click', onClick);
  return node;
}

/** A time of day (epoch seconds) in the page's language, in this browser's zone. */
export function timeOfDay(epoch, lang) {
  return new Date(epoch * 1000).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
