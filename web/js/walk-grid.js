// WalkGrid — the walkable floor of a scene, as served in the `.walk` file (docs/http-api.md).
//
// Pure data and rules: no three.js, no DOM, so it runs (and is unit-tested) in Node too.
// Layout: little-endian int16 centimetres, shape (layers, rows, cols) in C order; the cell
// (col, row) is centred at (origin[0] + (col + 0.5) * cell, origin[1] + (row + 0.5) * cell) in (x, z).
// Invariants: NO_FLOOR (-32768) marks an empty layer; every height this class returns is in metres;
// points outside the grid have no floor.

export const NO_FLOOR = -32768;
// The movement rule's defaults, the server's (server/walkable.py); a scene's `walkable` may set its own.
// Checked against the server by web/test/walker.test.mjs through tests/fixtures/protocol-vectors.json.
export const MAX_STEP = 0.35; // metres a walker may step up
export const MAX_DROP = 1.0; // metres a walker may step down (below the 2 m head room: never through a storey)

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class WalkGrid {
  /**
   * @param {Int16Array} heights  (layers * rows * cols) centimetres
   * @param {{origin: number[], cell: number, cols: number, rows: number, layers: number}} meta
   */
  constructor(heights, { origin, cell, cols, rows, layers }) {
    if (!(cell > 0) || !(cols > 0) || !(rows > 0) || !(layers > 0)) {
      throw new RangeError('walk grid: cell, cols, rows and layers must be positive');
    }
    if (heights.length !== cols * rows * layers) {
      throw new RangeError(`walk grid: expected ${cols * rows * layers} heights, got ${heights.length}`);
    }
    this.heights = heights;
    this.x0 = origin[0];
    this.z0 = origin[1];
    this.cell = cell;
    this.cols = cols;
    this.rows = rows;
    this.layers = layers;
    this.layerStride = cols * rows;
  }

  /** Parses the bytes of a `.walk` file described by the manifest's `walkable` object. */
  static fromArrayBuffer(buffer, meta) {
    const count = meta.cols * meta.rows * meta.layers;
    if (buffer.byteLength < count * 2) {
      throw new RangeError(`walk grid: ${buffer.byteLength} bytes, expected ${count * 2}`);
    }
    let heights;
    if (HOST_IS_LITTLE_ENDIAN) {
      heights = new Int16Array(buffer, 0, count);
    } else {
      const view = new DataView(buffer);
      heights = new Int16Array(count);
      for (let i = 0; i < count; i++) heights[i] = view.getInt16(i * 2, true);
    }
    return new WalkGrid(heights, meta);
  }

  /** Index of the cell holding (x, z) in layer 0, or -1 outside the grid. */
  cellIndex(x, z) {
    const col = Math.floor((x - this.x0) / this.cell);
    const row = Math.floor((z - this.z0) / this.cell);
    if (col < 0 || row < 0 || col >= this.cols || row >= this.rows) return -1;
    return row * this.cols + col;
  }

  /** All floor heights (metres, ascending) of the cell holding (x, z). */
  floorsAt(x, z) {
    const index = this.cellIndex(x, z);
    const floors = [];
    if (index < 0) return floors;
    for (let layer = 0; layer < this.layers; layer++) {
      const cm = this.heights[layer * this.layerStride + index];
      if (cm !== NO_FLOOR) floors.push(cm / 100);
    }
    return floors;
  }

  /** Highest floor (metres) of the cell holding (x, z) within [low, high], or null. */
  highestFloorIn(x, z, low, high) {
    const index = this.cellIndex(x, z);
    if (index < 0) return null;
    const lowCm = low * 100 - 0.5;
    const highCm = high * 100 + 0.5;
    for (let layer = this.layers - 1; layer >= 0; layer--) {
      const cm = this.heights[layer * this.layerStride + index];
      if (cm !== NO_FLOOR && cm >= lowCm && cm <= highCm) return cm / 100;
    }
    return null;
  }

  /**
   * The step rule: the floor a walker whose feet are at height h lands on at (x, z) —
   * the highest floor in [h - maxDrop, h + maxStep] — or null when (x, z) is a wall for them.
   */
  landingHeight(x, z, h, maxStep, maxDrop) {
    return this.highestFloorIn(x, z, h - maxDrop, h + maxStep);
  }
}
