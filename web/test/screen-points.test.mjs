// Page pixels and the 3D view's normalised device coordinates (web/js/screen-points.js): a click is cast
// from where it landed, and a test clicks a marker where it is drawn.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clientFromNdc, ndcFromClient } from '../js/screen-points.js';

const rect = { left: 100, top: 50, width: 800, height: 400 };

test('the centre of the view is NDC (0, 0) and its corners are ±1 with y up', () => {
  assert.deepEqual(ndcFromClient(rect, 500, 250), { x: 0, y: 0 });
  assert.deepEqual(ndcFromClient(rect, 100, 50), { x: -1, y: 1 });
  assert.deepEqual(ndcFromClient(rect, 900, 450), { x: 1, y: -1 });
});

test('a point converted to NDC and back lands on the same pixel', () => {
  for (const [x, y] of [[123, 77], [899, 51], [500, 449]]) {
    const back = clientFromNdc(rect, ndcFromClient(rect, x, y));
    assert.ok(Math.abs(back.x - x) < 1e-9 && Math.abs(back.y - y) < 1e-9, `${x},${y} -> ${back.x},${back.y}`);
  }
});
