// Proposal status — what a proposal's state says to a resident, as plain data: no DOM, no I18n object (the
// translation function is given), so node --test runs it and the panel and the editor's preview share it.
//
// The server's shape (docs/proposals.md, `Proposal.to_json()`): `status` is one of STATUSES, `gone`, or null;
// null with a `statusLabel` ({lang: text}) is a platform's custom state, shown in its own words; `gone` means
// the platform deleted or hid the proposal (the last title is kept, counts are null) — unlike `stale`, a
// passing outage over the last good value. `machineTranslatedLocales` lists the languages whose title or
// summary is a machine translation; `machineTranslated` says whether the first entry is one.
// Invariants: every function answers for any input (missing fields, wrong types) without throwing; a text
// picked from the server comes with the language it is in, so the page can set `lang` on it.

export const STATUSES = ['open', 'evaluating', 'accepted', 'rejected', 'withdrawn', 'closed'];
const FALLBACK_LANGUAGE = 'en';

/** {text, lang} of a {lang: text} object: `lang`, else English, else its first non-empty entry; '' if none. */
export function pickText(texts, lang) {
  if (!texts || typeof texts !== 'object' || Array.isArray(texts)) return { text: '', lang };
  for (const code of [lang, FALLBACK_LANGUAGE]) {
    if (typeof texts[code] === 'string' && texts[code]) return { text: texts[code], lang: code };
  }
  for (const [code, text] of Object.entries(texts)) {
    if (typeof text === 'string' && text) return { text, lang: code };
  }
  return { text: '', lang };
}

/** True when the platform no longer shows the proposal (deleted, hidden, unpublished). */
export function isGone(proposal) {
  return proposal?.status === 'gone';
}

/**
 * The status as a resident reads it in `lang`: {text, lang}. A known status or `gone` is the UI string
 * `t('proposal.status.<status>')`; a custom state is its own title (`statusLabel`) in `lang`, else English,
 * else the first given; nothing usable is `t('proposal.status.unknown')`.
 * @param {object} proposal  the live proposal
 * @param {string} lang  the page language
 * @param {(key: string) => string} t  the page's translation of a UI string key
 */
export function proposalStatusText(proposal, lang, t) {
  const status = proposal?.status;
  if (status === 'gone' || STATUSES.includes(status)) return { text: t(`proposal.status.${status}`), lang };
  const label = pickText(proposal?.statusLabel, lang);
  if (label.text) return label;
  return { text: t('proposal.status.unknown'), lang };
}

/**
 * Is the text shown in `shownLang` a machine translation? Yes when that language is listed in
 * `machineTranslatedLocales`, or when `machineTranslated` is set and the text shown is the first entry of
 * `texts` (what a resident whose language is missing reads).
 */
export function isMachineTranslated(proposal, shownLang, texts = proposal?.title) {
  if (!proposal || !shownLang) return false;
  const locales = Array.isArray(proposal.machineTranslatedLocales) ? proposal.machineTranslatedLocales : [];
  if (locales.includes(shownLang)) return true;
  if (proposal.machineTranslated !== true || !texts || typeof texts !== 'object') return false;
  return Object.keys(texts)[0] === shownLang;
}
