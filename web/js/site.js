// Site — what every page shares around its own content: the preferences applied to <html>, the
// language switch, the switch between the 3D and the text-only version, the preferences dialog,
// and modal dialogs that give focus back to whoever opened them.
//
// Invariants: the language is the server's (it rendered the page in it); choosing another is a plain link
// to `?lang=`, which the server keeps in a cookie for the next pages, and nothing else; the mode is
// remembered in this browser only (Prefs). The controls are in the HTML already: they are wired, not built.

import { I18n, LANGUAGE_NAMES, SUPPORTED_LANGUAGES, pickLanguage } from './i18n.js';
import { Prefs } from './prefs.js';
import { PreferencesDialog } from './preferences-ui.js';

export { openModal } from './modal.js';

/** Loads the preferences (applied at once) and the strings of the page language. */
export async function startPage(doc = document) {
  const prefs = Prefs.load();
  if (handOverStoredLanguage(doc, prefs)) return new Promise(() => {}); // this page is being replaced
  prefs.applyTo(doc);
  prefs.onChange(() => prefs.applyTo(doc));
  const i18n = await I18n.load(pickLanguage(location.search, navigator.languages || [navigator.language], prefs.get('lang')));
  return { prefs, i18n };
}

/**
 * A language chosen before the server kept the choice (then in Prefs, this browser only) is handed over once,
 * as a `?lang=` link would: the server renders the page in it and keeps it. True when the page is reloading.
 */
function handOverStoredLanguage(doc, prefs) {
  const kept = prefs.get('lang');
  if (!kept) return false;
  prefs.set('lang', null);
  const url = new URL(location.href);
  if (kept === doc.documentElement.lang || url.searchParams.has('lang') || !SUPPORTED_LANGUAGES.includes(kept)) return false;
  url.searchParams.set('lang', kept);
  location.replace(url.href);
  return true;
}

/**
 * Wires the page chrome. `mode` is the scene page's current mode ('3d' | 'text'), or null on pages
 * without a scene (there the switch is a toggle that applies to the next scene opened).
 */
export function setUpChrome({ doc = document, i18n, prefs, mode = null, scene = false }) {
  setUpLanguageSwitch(doc, i18n, prefs);
  setUpModeSwitch(doc, i18n, prefs, mode);
  const button = doc.getElementById('prefs-button');
  let dialog = null;
  if (button) {
    dialog = new PreferencesDialog(doc, i18n, prefs, { scene });
    button.addEventListener('click', () => dialog.open(button));
  }
  return { preferences: dialog };
}

function setUpLanguageSwitch(doc, i18n, prefs) {
  const select = doc.getElementById('lang-select');
  if (!select) return;
  if (select.options.length < SUPPORTED_LANGUAGES.length) {
    // A page the server did not render: build the choices.
    select.replaceChildren(
      ...SUPPORTED_LANGUAGES.map((code) => {
        const option = doc.createElement('option');
        option.value = code;
        option.lang = code;
        option.textContent = LANGUAGE_NAMES[code];
        return option;
      }),
    );
  }
  select.value = i18n.lang;
  select.addEventListener('change', () => {
    prefs.set('lang', null); // the server's cookie keeps the choice now
    const url = new URL(location.href);
    url.searchParams.set('lang', select.value);
    location.assign(url.href);
  });
}

function setUpModeSwitch(doc, i18n, prefs, mode) {
  const control = doc.getElementById('mode-switch');
  if (!control) return;
  if (mode) {
    // Scene page: a link to the other version of the same place (keeps ?instance and the rest).
    const target = mode === 'text' ? '3d' : 'text';
    const url = new URL(location.href);
    url.searchParams.set('mode', target);
    control.href = url.pathname + url.search;
    control.textContent = i18n.t(target === 'text' ? 'mode.toText' : 'mode.to3d');
    control.addEventListener('click', () => prefs.set('mode', target));
  } else {
    // Other pages: a toggle button remembered for the places opened next.
    const render = () => control.setAttribute('aria-pressed', String(prefs.get('mode') === 'text'));
    control.textContent = i18n.t('mode.textToggle');
    render();
    control.addEventListener('click', () => {
      prefs.set('mode', prefs.get('mode') === 'text' ? '3d' : 'text');
      render();
    });
  }
}
