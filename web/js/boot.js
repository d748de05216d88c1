// Boot — the scene page's entry. On a slow link the critical path is three.js (~170 kB), so: decide 3D or
// text at once, start three.js and the 3D modules downloading first (never in text mode), then ask for the
// page's own small modules all together (one round trip instead of one per import level), then run app.js.

import { chooseMode } from './mode.js';
import { Prefs } from './prefs.js';

// The static imports of app.js and theirs, fetched in parallel. A missing name only costs a round trip.
const APP_MODULES = [
  'announcer',
  'api',
  'controls-keyboard',
  'controls-pointer',
  'controls-touch',
  'downloads',
  'emitter',
  'i18n',
  'mirror',
  'modal',
  'preferences-ui',
  'shortcuts',
  'site',
  'tour',
  'zones',
  'hotspots',
  'hotspot-panel',
  'staff-signin',
  'presence',
  'presence-ui',
  'ui',
  'walk-grid',
  'walker',
];

if (chooseMode(Prefs.load()).mode === '3d') {
  for (const load of [() => import('../vendor/three.js'), () => import('./viewer.js'), () => import('./scene-loader.js')]) {
    load().catch(() => {}); // app.js reports failures when it really needs them
  }
}
for (const name of APP_MODULES) {
  const link = document.createElement('link');
  link.rel = 'modulepreload';
  link.href = `/static/js/${name}.js`;
  document.head.append(link);
}
const started = import('./app.js');
// Until app.js has run, only `civicSpace.ready` exists (it settles as the app's own does); app.js then
// replaces this placeholder with the app object. Scripts and tests wait for `ready`, or use `?.`.
window.civicSpace ??= { ready: started.then(() => window.civicSpace.ready) };
