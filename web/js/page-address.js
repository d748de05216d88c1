// Page address — what the scene page's URL says: which scene (`/scenes/{id}`, or `?scene=` when the page is
// opened some other way) and which instance of its room (`?instance=`, kept on reload and when shared).
//
// Pure (no DOM, no three.js): takes `{pathname, search}` or a search string, so `node --test` covers it.
// Invariants: an instance is always an integer in [1, MAX_INSTANCE]; anything else in the address means 1.

export const MAX_INSTANCE = 999;

/** The scene id of `/scenes/{id}`, or `?scene=`, or null. */
export function sceneIdFromLocation({ pathname, search }) {
  const match = /^\/scenes\/([^/]+)\/?$/.exec(pathname);
  if (match) return decodeURIComponent(match[1]);
  return new URLSearchParams(search).get('scene');
}

/** The room instance asked for by `?instance=` (1 when absent or not a number), clamped to [1, MAX_INSTANCE]. */
export function instanceFromSearch(search) {
  const asked = Number.parseInt(new URLSearchParams(search).get('instance'), 10) || 1;
  return Math.max(1, Math.min(MAX_INSTANCE, asked));
}
