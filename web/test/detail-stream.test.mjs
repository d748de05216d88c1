// Which level of detail the viewer needs (web/js/detail-stream.js): the error projected at the camera's distance
// to the model, the coarsest good-enough level, one fetch at a time, never under Save-Data.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DetailPlan, distanceToBox, projectedError, wantedLevel } from '../js/detail-stream.js';

const LEVELS = [
  { url: '/assets/a.glb', bytes: 200_000, error: 0.05, triangles: 50_000 },
  { url: '/assets/b.glb', bytes: 500_000, error: 0.01, triangles: 150_000 },
  { url: '/assets/c.glb', bytes: 900_000, error: 0, triangles: 400_000 },
];
const VIEW = { heightPx: 640, fovDeg: 70 }; // 640 / (2 tan 35°) ≈ 457 px per radian

test('the distance to a box is zero inside and Euclidean outside', () => {
  const box = [[-1, 0, -1], [1, 2, 1]];
  assert.equal(distanceToBox([0, 1, 0], ...box), 0);
  assert.equal(distanceToBox([4, 1, 0], ...box), 3);
  assert.equal(distanceToBox([4, 6, 1], ...box), 5);
});

test('an error projects to fewer pixels the farther it is', () => {
  const near = projectedError(0.05, 10, VIEW.heightPx, VIEW.fovDeg);
  assert.ok(Math.abs(near - (0.05 * 320) / Math.tan((35 * Math.PI) / 180) / 10) < 1e-9);
  assert.ok(Math.abs(projectedError(0.05, 20, VIEW.heightPx, VIEW.fovDeg) - near / 2) < 1e-9);
  assert.ok(projectedError(0.05, 0, VIEW.heightPx, VIEW.fovDeg) > 100); // inside the model: as close as can be
  assert.equal(projectedError(0, 1, VIEW.heightPx, VIEW.fovDeg), 0); // full detail is always good enough
});

test('the wanted level is the coarsest whose error stays within a pixel', () => {
  const wanted = (distance) => wantedLevel(LEVELS, distance, VIEW.heightPx, VIEW.fovDeg);
  assert.equal(wanted(100), 0); // 0.05 m at 100 m: 0.23 px
  assert.equal(wanted(15), 1); // 0.05 m: 1.5 px, 0.01 m: 0.3 px
  assert.equal(wanted(2), 2); // 0.01 m: 2.3 px
  assert.equal(wanted(0), 2);
});

test('the plan fetches the level the view needs, one at a time, and never goes back', () => {
  const plan = new DetailPlan(LEVELS);
  assert.equal(plan.next({ distance: 100, ...VIEW }), -1); // the first level is enough from afar
  assert.equal(plan.next({ distance: 2, ...VIEW }), 2); // close: straight to the finest, skipping the middle
  plan.begin(2);
  assert.equal(plan.next({ distance: 0, ...VIEW }), -1); // one fetch at a time
  plan.done(2);
  assert.ok(plan.finest);
  assert.equal(plan.next({ distance: 100, ...VIEW }), -1); // walking away keeps the finer level
});

test('a failed level is not asked again; a coarser one that helps still is', () => {
  const plan = new DetailPlan(LEVELS);
  plan.begin(2);
  plan.fail(2);
  assert.equal(plan.loaded, 0);
  assert.equal(plan.next({ distance: 2, ...VIEW }), 1);
  plan.begin(1);
  plan.done(1);
  assert.equal(plan.next({ distance: 0, ...VIEW }), -1);
});

test('under reduced data nothing finer is ever fetched', () => {
  const plan = new DetailPlan(LEVELS, { saveData: true });
  assert.equal(plan.next({ distance: 0, ...VIEW }), -1);
  assert.equal(plan.loaded, 0);
});
