// The walk editor's pure parts (web/js/walk-editor.js): the box two corners make (snapped outwards to the
// grid's cells, one storey high, kept inside the scene), sizes, poses and headings.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { STOREY, boxCentre, boxFromCorners, boxSize, heading, poseOf } from '../js/walk-editor.js';

const GRID = { origin: [-7.25, -7.25], cell: 0.25 };

/** Cell (col, row) holding (x, z), as web/js/walk-grid.js and server/walkable.py count them. */
const cellOf = ([x, , z], grid) => [Math.floor((x - grid.origin[0]) / grid.cell), Math.floor((z - grid.origin[1]) / grid.cell)];
/** Whether a cell's centre lies inside a box, the server's painting rule. */
const centreInside = ([col, row], grid, area) => {
  const cx = grid.origin[0] + (col + 0.5) * grid.cell;
  const cz = grid.origin[1] + (row + 0.5) * grid.cell;
  return area.min[0] <= cx && cx <= area.max[0] && area.min[2] <= cz && cz <= area.max[2];
};

test('the box of two corners covers the cells both corners stand in, whatever order they are marked', () => {
  const a = [1.13, 0.02, 2.61];
  const b = [-0.4, 0.0, 4.07];
  for (const [first, second] of [[a, b], [b, a]]) {
    const area = boxFromCorners(first, second, GRID);
    assert.deepEqual(area, { min: [-0.5, 0, 2.5], max: [1.25, 0.02 + STOREY, 4.25] });
    for (const corner of [a, b]) assert.ok(centreInside(cellOf(corner, GRID), GRID, area), `corner ${corner}`);
  }
});

test('one corner marked twice paints its own cell, and edges fall on cell boundaries', () => {
  const area = boxFromCorners([0.3, 1.2, 0.3], [0.3, 1.2, 0.3], GRID);
  assert.deepEqual(area, { min: [0.25, 1.2, 0.25], max: [0.5, 2.7, 0.5] });
  for (const v of [area.min[0], area.max[0], area.min[2], area.max[2]]) {
    assert.equal(Math.round((v - GRID.origin[0]) / GRID.cell) * GRID.cell + GRID.origin[0], v);
  }
});

test('the box stays inside the scene bounds, and a grid without cells uses quarter metres from 0', () => {
  const bounds = { min: [-2, -1, -2], max: [2, 1.5, 2] };
  assert.deepEqual(boxFromCorners([-1.99, 0, 1.99], [1.99, 0.5, -1.99], GRID, bounds), { min: [-2, 0, -2], max: [2, 1.5, 2] });
  assert.deepEqual(boxFromCorners([0.1, 0, 0.1], [0.6, 0, 0.1], null), { min: [0, 0, 0], max: [0.75, STOREY, 0.25] });
});

test('sizes, centres, poses and headings', () => {
  const area = { min: [-0.5, 0, 2.5], max: [1.25, 1.5, 4.25] };
  assert.deepEqual(boxSize(area), { width: 1.8, depth: 1.8 });
  assert.deepEqual(boxCentre(area), [0.375, 0, 3.375]);
  assert.equal(poseOf(null), null);
  assert.deepEqual(poseOf({ x: 1.23456, y: 0, z: -2, yaw: (3 * Math.PI) / 2 }), { position: [1.235, 0, -2], yaw: -90 });
  assert.deepEqual(poseOf({ x: 0, y: 0, z: 0, yaw: -Math.PI }), { position: [0, 0, 0], yaw: 180 });
  assert.deepEqual([0, 90, 180, -90, 269, -181].map(heading), ['north', 'west', 'south', 'east', 'east', 'south']);
});
