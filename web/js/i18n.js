// I18n — picks the page language and translates UI strings.
//
// Strings live in web/locales/<lang>.json as flat {"key": "text with {placeholders}"} objects. The server
// renders every page in its visitor's language from the same files (server/pages.py) and embeds that
// language's strings, English filling the gaps, in a `<script type="application/json" id="civic-strings">`
// block: the page's language is the server's, and no locale file is fetched. Without that block (a page
// opened some other way) they are fetched same-origin (the CSP allows connect-src 'self'). Content from
// the server (scene titles, descriptions) comes as {"en": ..., "fr": ...} objects and goes through pick().
// Invariants: t() never throws and never returns undefined (a missing key falls back to English,
// then to the key itself); the HTML already holds the translated text, so apply() changes nothing a
// visitor can see (no flash) and a page stays whole if scripts fail.

export const SUPPORTED_LANGUAGES = ['en', 'fr', 'nl', 'es'];
export const DEFAULT_LANGUAGE = 'en';
/** Each language named in itself (the language switch shows these, each with its own `lang`). */
export const LANGUAGE_NAMES = { en: 'English', fr: 'Français', nl: 'Nederlands', es: 'Español' };

/**
 * The language the server rendered the page in; else the first supported language of `?lang=`, then the
 * one the resident chose (`stored`, from Prefs), then the browser's preferences, else English.
 */
export function pickLanguage(search = location.search, preferred = navigator.languages || [navigator.language], stored = null) {
  const rendered = globalThis.document?.documentElement?.dataset.serverLang;
  const override = new URLSearchParams(search).get('lang');
  for (const tag of [rendered, override, stored, ...preferred]) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (SUPPORTED_LANGUAGES.includes(base)) return base;
  }
  return DEFAULT_LANGUAGE;
}

export class I18n {
  constructor(lang, strings = {}, fallback = {}) {
    this.lang = lang;
    this.strings = strings;
    this.fallback = fallback;
  }

  /** The strings the server embedded in the page, when they are `lang`'s; else null. */
  static embedded(lang, doc = globalThis.document) {
    const block = doc?.getElementById('civic-strings');
    if (!block || block.dataset.lang !== lang) return null;
    try {
      const strings = JSON.parse(block.textContent);
      return new I18n(lang, strings, strings); // English already fills the gaps
    } catch {
      return null;
    }
  }

  /** The page's strings of `lang` (embedded), else its locale file (and English as fallback). Never rejects. */
  static async load(lang, base = '/static/locales/') {
    const embedded = I18n.embedded(lang);
    if (embedded) return embedded;
    const fetchLocale = async (code) => {
      try {
        const response = await fetch(`${base}${code}.json`);
        return response.ok ? await response.json() : {};
      } catch {
        return {};
      }
    };
    const [strings, fallback] = await Promise.all([
      fetchLocale(lang),
      lang === DEFAULT_LANGUAGE ? null : fetchLocale(DEFAULT_LANGUAGE),
    ]);
    return new I18n(lang, strings, fallback || strings);
  }

  /** The UI string `key` with {placeholders} filled from `vars`. */
  t(key, vars = {}) {
    const template = this.strings[key] ?? this.fallback[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  }

  /** The text of a {"en": ..., "fr": ...} object in the page language, falling back to English. */
  pick(texts) {
    return this.pickWithLang(texts).text;
  }

  /**
   * {text, lang}: the text in the page language, else English, else any; `lang` says which, so the
   * element showing a fallback text can carry `lang="en"` (screen readers then pronounce it right).
   */
  pickWithLang(texts) {
    if (texts == null) return { text: '', lang: this.lang };
    if (typeof texts === 'string') return { text: texts, lang: this.lang };
    for (const lang of [this.lang, DEFAULT_LANGUAGE]) {
      if (typeof texts[lang] === 'string' && texts[lang]) return { text: texts[lang], lang };
    }
    const [lang, text] = Object.entries(texts)[0] ?? [this.lang, ''];
    return { text: String(text), lang };
  }

  /** Sets `element`'s text from a {"en": ..., "fr": ...} object, with `lang` when it is a fallback. */
  setText(element, texts) {
    const { text, lang } = this.pickWithLang(texts);
    element.textContent = text;
    if (lang !== this.lang) element.lang = lang;
    else element.removeAttribute('lang');
    return { text, lang };
  }

  /**
   * Translates static HTML: `data-i18n="key"` sets textContent, `data-i18n-attr="aria-label:key;title:key"`
   * sets attributes. Elements whose key is missing keep their English text.
   */
  apply(root = document) {
    document.documentElement.lang = this.lang;
    for (const element of root.querySelectorAll('[data-i18n]')) {
      const key = element.dataset.i18n;
      if (this.has(key)) element.textContent = this.t(key);
    }
    for (const element of root.querySelectorAll('[data-i18n-attr]')) {
      for (const pair of element.dataset.i18nAttr.split(';')) {
        const [attribute, key] = pair.split(':').map((part) => part.trim());
        if (attribute && this.has(key)) element.setAttribute(attribute, this.t(key));
      }
    }
  }

  has(key) {
    return key in this.strings || key in this.fallback;
  }
}
