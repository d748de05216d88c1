// Accessibility page — the statement at /accessibility, rendered whole by the server in the visitor's
// language; this script adds the language select, the text-only switch and the preferences, as on every page.
// Invariant: the page reads fully without this script, so it never depends on it.

import { setUpChrome, startPage } from './site.js';

const { prefs, i18n } = await startPage(document);
setUpChrome({ doc: document, i18n, prefs });
document.body.dataset.state = 'ready';
