// Screen points — converting between page pixels and the 3D view's normalised device coordinates (NDC:
// x and y in [-1, 1], y up, {0, 0} the centre of the view), for clicks on the view and for tests that
// click a marker.
//
// Pure (no DOM, no three.js): `rect` is any {left, top, width, height}, e.g. getBoundingClientRect().

/** Page pixels -> NDC within `rect`. */
export function ndcFromClient(rect, clientX, clientY) {
  return { x: ((clientX - rect.left) / rect.width) * 2 - 1, y: 1 - ((clientY - rect.top) / rect.height) * 2 };
}

/** NDC -> page pixels within `rect` (the inverse of ndcFromClient). */
export function clientFromNdc(rect, { x, y }) {
  return { x: rect.left + ((x + 1) / 2) * rect.width, y: rect.top + ((1 - y) / 2) * rect.height };
}
