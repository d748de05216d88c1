// Drawing a zone (web/js/zone-draw.js): the box from two marked corners, kept inside the scene, and the checks
// the editor's numeric fields get before a box is sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_HEIGHT, MAX_COORD, boxFromCorners, boxProblems, boxSize, clampToBounds, formatCoordinate, parseCoordinate } from '../js/zone-draw.js';

const BOUNDS = { min: [-20, 0, -30], max: [20, 12, 30] };

test('the box spans the two corners across the floor, in any order, and a storey above the higher floor', () => {
  const box = boxFromCorners([4, 0, -2], [-1.5, 0.4, 6]);
  assert.deepEqual(box, { min: [-1.5, 0, -2], max: [4, 0.4 + DEFAULT_HEIGHT, 6] });
  assert.deepEqual(boxFromCorners([-1.5, 0.4, 6], [4, 0, -2]), box);
  assert.deepEqual(boxFromCorners([0, 1, 0], [2, 1, 2], 5).max, [2, 6, 2]);
  assert.deepEqual(boxSize(box), { width: 5.5, depth: 8 });
});

test('corners are kept to the millimetre', () => {
  const box = boxFromCorners([0.12345, 0, 0], [1.00049, 0, 1]);
  assert.deepEqual(box.min, [0.123, 0, 0]);
  assert.equal(box.max[0], 1);
});

test('a box is cut to the scene, and left as it is without bounds', () => {
  const box = { min: [-25, -1, 0], max: [5, 14, 40] };
  assert.deepEqual(clampToBounds(box, BOUNDS), { min: [-20, 0, 0], max: [5, 12, 30] });
  assert.deepEqual(clampToBounds(box, null), box);
  assert.notEqual(clampToBounds(box, null).min, box.min); // a copy: the caller's box is not changed
});

test('typed coordinates: a point or a comma, signs; anything else is not a number', () => {
  assert.equal(parseCoordinate('1.5'), 1.5);
  assert.equal(parseCoordinate(' -2,25 '), -2.25);
  assert.equal(parseCoordinate('+3'), 3);
  assert.equal(parseCoordinate('.5'), 0.5);
  for (const bad of ['', ' ', 'abc', '1e999', '1.2.3', 'NaN', 'Infinity', '--1', null, undefined]) {
    assert.equal(parseCoordinate(bad), null, String(bad));
  }
  assert.equal(formatCoordinate(1.23456), '1.23');
  assert.equal(formatCoordinate(-4), '-4');
});

test('a good box has no problems', () => {
  assert.deepEqual(boxProblems({ min: [0, 0, 0], max: [4, 3, 4] }, BOUNDS), []);
  assert.deepEqual(boxProblems({ min: [0, 0, 0], max: [0.5, 0, 0.5] }, null), []); // a flat box is allowed
});

test('missing, non-finite or huge coordinates are named by field, before any other check', () => {
  const problems = boxProblems({ min: [null, 0, NaN], max: [4, MAX_COORD + 1, 4] }, BOUNDS);
  assert.deepEqual(problems, [
    { field: 'min-x', problem: 'number' },
    { field: 'min-z', problem: 'number' },
    { field: 'max-y', problem: 'number' },
  ]);
});

test('max below min, and a box narrower than half a metre, are named on the max field', () => {
  assert.deepEqual(boxProblems({ min: [0, 2, 0], max: [4, 1, 4] }, BOUNDS), [{ field: 'max-y', problem: 'order' }]);
  assert.deepEqual(boxProblems({ min: [0, 0, 0], max: [0.4, 3, -1] }, BOUNDS), [
    { field: 'max-x', problem: 'small' },
    { field: 'max-z', problem: 'order' },
  ]);
});

test('a box that does not meet the scene is refused', () => {
  assert.deepEqual(boxProblems({ min: [30, 0, 0], max: [34, 3, 4] }, BOUNDS), [{ field: 'min-x', problem: 'outside' }]);
  assert.deepEqual(boxProblems({ min: [0, 13, 0], max: [4, 16, 4] }, BOUNDS), [{ field: 'min-x', problem: 'outside' }]);
  assert.deepEqual(boxProblems({ min: [19, 0, 0], max: [24, 3, 4] }, BOUNDS), []); // overlapping is enough
});
