// Landing — the page at `/`. The server renders it whole in the visitor's language (server/pages.py): the
// scenes, each linking to its page, are in the HTML before any script runs. This script only adds what
// needs one: the preferences, the language select and the text-only switch (site.js).
//
// Invariants: the list is never rebuilt here (no flash, no layout shift); body[data-state] ends as
// "ready" for tests.

import { setUpChrome, startPage } from './site.js';

const { prefs, i18n } = await startPage(document);
setUpChrome({ doc: document, i18n, prefs });
document.body.dataset.state = 'ready';
