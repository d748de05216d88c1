// Zone drawing — the pure part of "draw the area" in the places editor (places-editor.js): the box between two
// marked corners, kept inside the scene, and the checks the numeric fields get before anything is sent.
//
// A corner is where the staff member's feet were ([x, y, z], metres). The box spans the two corners across the
// floor (x, z); its height goes from the lower floor to the higher one plus `height` (3 m: a storey), so a zone
// drawn on a landing or a ramp still holds both ends. The same rules as the server (server/services/places.py):
// at least MIN_SIZE wide and deep, min ≤ max on every axis, overlapping the scene, coordinates within MAX_COORD.
// No DOM, no three.js: tested with `node --test web/test/zone-draw.test.js`.

export const DEFAULT_HEIGHT = 3; // metres above the higher floor: a storey
export const MIN_SIZE = 0.5; // metres, width and depth (server/services/places.py MIN_SIZE)
export const MAX_COORD = 10_000; // metres (server/schema_types.py MAX_COORD)
export const AXES = ['x', 'y', 'z'];

const round = (value) => Math.round(value * 1000) / 1000; // millimetres, as the editor's poses

/** The box between two corners: across the floor from one to the other, up `height` above the higher floor. */
export function boxFromCorners(a, b, height = DEFAULT_HEIGHT) {
  const min = [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.min(a[2], b[2])];
  const max = [Math.max(a[0], b[0]), Math.max(a[1], b[1]) + height, Math.max(a[2], b[2])];
  return { min: min.map(round), max: max.map(round) };
}

/** `box` cut to the scene's `bounds` ({min, max}); unchanged without bounds. A box outside stays outside (flat). */
export function clampToBounds(box, bounds) {
  if (!bounds) return { min: [...box.min], max: [...box.max] };
  const clamp = (value, i) => round(Math.min(Math.max(value, bounds.min[i]), bounds.max[i]));
  return { min: box.min.map(clamp), max: box.max.map(clamp) };
}

/** A typed coordinate as a number (a decimal comma accepted, as French, Spanish and Dutch write it), or null. */
export function parseCoordinate(text) {
  const cleaned = String(text ?? '').trim().replace(',', '.');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(cleaned)) return null;
  const value = Number(cleaned);
  return Number.isFinite(value) ? value : null;
}

/** A coordinate for a field: at most centimetres, no trailing zeros. */
export function formatCoordinate(value) {
  return String(Math.round(value * 100) / 100);
}

/**
 * What is wrong with a box read from the fields (`values`: {min: [..], max: [..]} of numbers or null), as a list
 * of {field, problem}: `field` names the input ('min-x' … 'max-z'), `problem` is one of 'number' (not a number, or
 * beyond MAX_COORD), 'order' (max below min), 'small' (narrower than MIN_SIZE), 'outside' (does not meet the
 * scene's `bounds`). Empty when the box can be sent.
 */
export function boxProblems(values, bounds = null) {
  const problems = [];
  for (const end of ['min', 'max']) {
    AXES.forEach((axis, i) => {
      const value = values[end][i];
      if (value == null || !Number.isFinite(value) || Math.abs(value) > MAX_COORD) problems.push({ field: `${end}-${axis}`, problem: 'number' });
    });
  }
  if (problems.length) return problems;
  const { min, max } = values;
  AXES.forEach((axis, i) => {
    if (max[i] < min[i]) problems.push({ field: `max-${axis}`, problem: 'order' });
    else if (i !== 1 && max[i] - min[i] < MIN_SIZE) problems.push({ field: `max-${axis}`, problem: 'small' });
  });
  if (problems.length || !bounds) return problems;
  if (AXES.some((_, i) => max[i] < bounds.min[i] || min[i] > bounds.max[i])) problems.push({ field: 'min-x', problem: 'outside' });
  return problems;
}

/** Width (x) and depth (z) of a box in metres, for what is said and shown. */
export function boxSize(box) {
  return { width: round(box.max[0] - box.min[0]), depth: round(box.max[2] - box.min[2]) };
}
