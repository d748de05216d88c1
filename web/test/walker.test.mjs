// The walker's movement rule (web/js/walker.js on web/js/walk-grid.js): floors, the step rule, walls,
// sliding, and no tunnelling through a one-cell wall however low the frame rate.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_DROP, MAX_STEP, NO_FLOOR, WalkGrid } from '../js/walk-grid.js';
import { Intent, Walker } from '../js/walker.js';

/** A one-layer grid of 0.25 m cells from a row-major array of heights in metres (null: no floor). */
function grid(rows) {
  const heights = new Int16Array(rows.length * rows[0].length);
  rows.flat().forEach((h, i) => {
    heights[i] = h === null ? NO_FLOOR : Math.round(h * 100);
  });
  return new WalkGrid(heights, { origin: [0, 0], cell: 0.25, cols: rows[0].length, rows: rows.length, layers: 1 });
}

const flat = (cols, rows, h = 0) => grid(Array.from({ length: rows }, () => Array(cols).fill(h)));

function walk(walker, seconds, set, dt = 1 / 60) {
  const intent = new Intent();
  set(intent);
  for (let t = 0; t < seconds; t += dt) walker.update(dt, intent);
}

test('the grid finds floors by cell and nothing outside it', () => {
  const g = grid([[0, 0.2], [null, 1]]);
  assert.deepEqual(g.floorsAt(0.1, 0.1), [0]);
  assert.deepEqual(g.floorsAt(0.3, 0.1), [0.2]);
  assert.deepEqual(g.floorsAt(0.1, 0.3), []);
  assert.deepEqual(g.floorsAt(-0.1, 0.1), []);
  assert.deepEqual(g.floorsAt(0.6, 0.1), []);
});

test('the step rule: up to maxStep up, down to maxDrop down, else a wall', () => {
  const g = grid([[0, 0.3, 0.7, -5]]);
  assert.equal(g.landingHeight(0.3, 0.1, 0, 0.35, 4), 0.3);
  assert.equal(g.landingHeight(0.55, 0.1, 0, 0.35, 4), null); // 0.7 m up is a wall
  assert.equal(g.landingHeight(0.8, 0.1, 0, 0.35, 4), null); // 5 m down is a wall too
  assert.equal(g.landingHeight(0.1, 0.1, 0.3, 0.35, 4), 0);
});

test('walking forward at yaw 0 goes toward -Z at walking speed', () => {
  const walker = new Walker({ grid: flat(40, 40) });
  walker.placeAt([5, 0, 8]);
  walk(walker, 1, (i) => (i.forward = 1));
  assert.ok(Math.abs(walker.z - (8 - 1.4)) < 0.05, `z ${walker.z}`);
  assert.ok(Math.abs(walker.x - 5) < 1e-9);
});

test('a wall stops the walker, even at one frame per second', () => {
  const rows = Array.from({ length: 40 }, () => Array(40).fill(0));
  for (const row of rows) row[20] = 2; // a one-cell wall 2 m high at x in [5, 5.25)
  for (const dt of [1 / 60, 1]) {
    const walker = new Walker({ grid: grid(rows) });
    walker.placeAt([3, 0, 5], -90); // yaw -90°: forward is +X
    walk(walker, 5, (i) => {
      i.forward = 1;
      i.run = true;
    }, dt);
    assert.ok(walker.x < 5, `dt ${dt}: x ${walker.x} went through the wall`);
    assert.equal(walker.y, 0);
  }
});

test('the walker climbs stairs one step at a time and lands on each', () => {
  const row = [0, 0, 0, 0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8];
  const walker = new Walker({ grid: grid(Array.from({ length: 8 }, () => row)) });
  walker.placeAt([0.3, 0, 1], -90);
  walk(walker, 3, (i) => (i.forward = 1));
  assert.equal(walker.y, 0.8);
});

test('moving diagonally into a wall slides along it', () => {
  const rows = Array.from({ length: 40 }, () => Array(40).fill(0));
  for (const row of rows) row[20] = null; // no floor: a wall
  const walker = new Walker({ grid: grid(rows) });
  walker.placeAt([4.5, 0, 5], -45); // forward is +X and -Z
  walk(walker, 2, (i) => (i.forward = 1));
  assert.ok(walker.x < 5);
  assert.ok(walker.z < 4, `z ${walker.z}: it should have slid along the wall`);
});

test('pitch is clamped and yaw wraps into [-π, π)', () => {
  const walker = new Walker();
  walker.look(3 * Math.PI, 10);
  assert.ok(walker.yaw >= -Math.PI && walker.yaw < Math.PI);
  assert.ok(Math.abs(walker.yaw - Math.PI) < 1e-9 || Math.abs(walker.yaw + Math.PI) < 1e-9);
  assert.ok(walker.pitch <= (85 * Math.PI) / 180 + 1e-12);
});

test('the step rule lands where the server rule lands, on the same grid (shared fixture)', async () => {
  const { readFileSync } = await import('node:fs');
  const url = new URL('../../tests/fixtures/protocol-vectors.json', import.meta.url);
  const { walking } = JSON.parse(readFileSync(url, 'utf8'));
  assert.equal(MAX_STEP, walking.MAX_STEP);
  assert.equal(MAX_DROP, walking.MAX_DROP);
  assert.equal(NO_FLOOR, walking.NO_FLOOR);
  const walker = new Walker();
  assert.deepEqual([walker.maxStep, walker.maxDrop], [walking.MAX_STEP, walking.MAX_DROP]);
  const g = new WalkGrid(Int16Array.from(walking.heights), walking.meta);
  for (const { x, z, y, lands } of walking.steps) {
    assert.equal(g.landingHeight(x, z, y, MAX_STEP, MAX_DROP), lands, JSON.stringify({ x, z, y }));
  }
});
