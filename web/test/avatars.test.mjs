// Avatars: the packed instance slots behind the instanced bodies, the merged body geometry, and the colours
// a member gets (clothes and skin, independent of each other).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BoxGeometry, SphereGeometry } from '../vendor/three.js';
import { colorIndex, mergeParts, skinIndex, Slots } from '../js/avatars.js';

test('slots stay dense: removing moves the last slot into the hole', () => {
  const slots = new Slots();
  assert.equal(slots.add(7), 0);
  assert.equal(slots.add(9), 1);
  assert.equal(slots.add(4), 2);
  assert.equal(slots.add(9), 1, 'adding twice keeps the slot');
  assert.deepEqual(slots.remove(7), { from: 2, to: 0 });
  assert.equal(slots.slotOf(4), 0);
  assert.equal(slots.slotOf(7), undefined);
  assert.equal(slots.size, 2);
  assert.equal(slots.remove(9), null, 'the last slot leaves no hole');
  assert.equal(slots.remove(9), null, 'removing twice is harmless');
  assert.equal(slots.size, 1);
  assert.equal(slots.add(5), 1);
});

test('slots survive a long churn of joins and leaves', () => {
  const slots = new Slots();
  const present = new Set();
  let seed = 1;
  for (let step = 0; step < 2000; step++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const id = seed % 50;
    if (present.has(id)) {
      slots.remove(id);
      present.delete(id);
    } else {
      slots.add(id);
      present.add(id);
    }
    assert.equal(slots.size, present.size);
  }
  const used = [...present].map((id) => slots.slotOf(id)).sort((a, b) => a - b);
  assert.deepEqual(used, [...Array(present.size).keys()]);
});

test('merged body parts keep their vertices, triangles and colours', () => {
  const box = new BoxGeometry(1, 1, 1);
  const sphere = new SphereGeometry(0.5, 8, 6);
  const boxVertices = box.attributes.position.count;
  const sphereVertices = sphere.attributes.position.count;
  const triangles = (box.index.count + sphere.index.count) / 3;
  const merged = mergeParts([[box, [1, 0, 0]], [sphere, [0, 0.5, 1]]]);
  assert.equal(merged.attributes.position.count, boxVertices + sphereVertices);
  assert.equal(merged.index.count / 3, triangles);
  const colors = merged.attributes.color.array;
  assert.deepEqual([...colors.slice(0, 3)], [1, 0, 0]);
  assert.deepEqual([...colors.slice(-3)], [0, 0.5, 1]);
  const maxIndex = Math.max(...merged.index.array);
  assert.equal(maxIndex, boxVertices + sphereVertices - 1, 'the second part is offset past the first');
});

test('clothes and skin colours are spread and independent', () => {
  const clothes = new Set();
  const skins = new Set();
  const pairs = new Set();
  for (let id = 1; id <= 60; id++) {
    clothes.add(colorIndex(id));
    skins.add(skinIndex(id));
    pairs.add(`${colorIndex(id)}/${skinIndex(id)}`);
  }
  assert.ok(clothes.size >= 10 && skins.size >= 5);
  assert.ok(pairs.size > 30, 'the skin tone does not follow the clothes colour');
});
