// Mode — 3D or text-only, and why text: the address (`?mode=`) or the remembered switch, Save-Data, or no
// WebGL 2. Decided once per page, before anything 3D is downloaded (boot.js and app.js both ask).

import { hasWebGL2 } from './webgl-support.js';

export function chooseMode(prefs) {
  const asked = new URLSearchParams(location.search).get('mode') || prefs.get('mode');
  if (asked === 'text') return { mode: 'text', reason: null };
  const saveData = navigator.connection?.saveData === true;
  if (asked !== '3d' && saveData) return { mode: 'text', reason: 'save-data' };
  if (!hasWebGL2()) return { mode: 'text', reason: 'no-webgl' };
  return { mode: '3d', reason: null };
}
