// Event wall layout — where the meeting's screen hangs in a zone and how its text wraps: the pure half of
// event-wall.js (no three.js, no DOM), so `node --test` covers it.

const MAX_WIDTH = 2.4;
const LOWER_EDGE = 3.5; // metres above the zone's floor: over a dais, its desk, flags and what hangs on the wall

/** {x, y, z, width, height} of the screen's centre and size for a zone's `area` ({min, max} in metres). */
export function wallPlacement(area) {
  const { min, max } = area;
  const width = Math.min(MAX_WIDTH, (max[0] - min[0]) * 0.5);
  const height = (width * 9) / 16;
  const bottom = Math.max(min[1] + 1, Math.min(min[1] + LOWER_EDGE, max[1] - 0.2 - height));
  return { x: (min[0] + max[0]) / 2, y: bottom + height / 2, z: min[2] + 0.3, width, height };
}

/** Splits `text` into lines that fit `width` pixels with the context's current font (at most `max` lines). */
export function wrapText(measure, text, width, max) {
  const words = String(text).split(/\s+/).filter(Boolean);
  const lines = [];
  let line = '';
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (measure(candidate) <= width || !line) line = candidate;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length > max) {
    lines.length = max;
    const last = lines[max - 1];
    const shorter = last.replace(/\s+\S+$/, ''); // a word less, when the ellipsis does not fit
    lines[max - 1] = measure(`${last}…`) <= width || shorter === last ? `${last}…` : `${shorter}…`;
  }
  return lines;
}
