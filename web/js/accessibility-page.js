// Accessibility page — the statement at /accessibility: translated from the locale files (a11y.*),
// with the same language switch, text-only switch and preferences as every page.
// Invariant: the page reads fully without this script (English HTML), so it never depends on it.

import { setUpChrome, startPage } from './site.js';

const { prefs, i18n } = await startPage(document);
i18n.apply(document);
document.title = `${i18n.t('a11y.title')} — ${i18n.t('site.name')}`;
setUpChrome({ doc: document, i18n, prefs });
document.body.dataset.state = 'ready';
