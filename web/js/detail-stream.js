// Detail stream — which level of detail of an imported scene the viewer needs (the scene document's `lods`,
// coarsest first, each with its geometric error in metres; docs/http-api.md). scene-loader.js does the
// fetching and swapping; this module only decides, so `node --test` covers it.
//
// Rule: a level is good enough while its error, projected at the camera's distance to the model's bounds, stays
// within PIXEL_THRESHOLD pixels of the drawing buffer; the stream fetches the coarsest level that is good enough
// (skipping the levels in between: fewer bytes), one at a time, never going back to a coarser one.
// Invariants: under reduced data (Save-Data) nothing is ever fetched; a level that failed is not asked again.

export const PIXEL_THRESHOLD = 1;
const NEAREST = 0.1; // metres: inside the bounds, the error is measured as if this close (the camera's near plane)

/** Distance in metres from `point` [x, y, z] to the box [min, max] (0 inside). */
export function distanceToBox(point, min, max) {
  let sum = 0;
  for (let i = 0; i < 3; i++) {
    const gap = Math.max(min[i] - point[i], 0, point[i] - max[i]);
    sum += gap * gap;
  }
  return Math.sqrt(sum);
}

/** Pixels an error of `error` metres covers at `distance` metres, in a view `heightPx` tall with vertical field of
 * view `fovDeg` (a perspective camera). */
export function projectedError(error, distance, heightPx, fovDeg) {
  const pixelsPerRadian = heightPx / (2 * Math.tan((fovDeg * Math.PI) / 360));
  return (error * pixelsPerRadian) / Math.max(distance, NEAREST);
}

/** Index of the coarsest level whose error projects within the threshold (the finest when none does). */
export function wantedLevel(levels, distance, heightPx, fovDeg, threshold = PIXEL_THRESHOLD) {
  const index = levels.findIndex((level) => projectedError(level.error, distance, heightPx, fovDeg) <= threshold);
  return index < 0 ? levels.length - 1 : index;
}

/** The levels of one scene and what is loaded: the first level is loaded with the scene. */
export class DetailPlan {
  /** @param {{url: string, bytes: number, error: number, triangles: number}[]} levels  coarsest first */
  constructor(levels, { saveData = false } = {}) {
    this.levels = levels;
    this.saveData = saveData;
    this.loaded = 0;
    this.loading = -1;
    this.failed = new Set();
  }

  get finest() {
    return this.loaded === this.levels.length - 1;
  }

  /** The level to fetch now for this view, or -1 (enough detail, one already on its way, or saving data). */
  next({ distance, heightPx, fovDeg }) {
    if (this.saveData || this.loading >= 0 || this.finest) return -1;
    let wanted = wantedLevel(this.levels, distance, heightPx, fovDeg);
    while (wanted > this.loaded && this.failed.has(wanted)) wanted -= 1;
    return wanted > this.loaded ? wanted : -1;
  }

  begin(index) {
    this.loading = index;
  }

  done(index) {
    this.loading = -1;
    this.loaded = Math.max(this.loaded, index);
  }

  fail(index) {
    this.loading = -1;
    this.failed.add(index);
  }
}
