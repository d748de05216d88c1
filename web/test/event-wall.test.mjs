// Where the meeting's screen hangs in a zone and how its text wraps (web/js/event-wall-layout.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { wallPlacement, wrapText } from '../js/event-wall-layout.js';

const near = (a, b) => Math.abs(a - b) < 1e-9;

test('in a tall chamber the screen hangs centred on the front wall, over the dais, under the ceiling', () => {
  const area = { min: [-15, 0, -12], max: [3, 6.6, -1] }; // the bundled council chamber
  const place = wallPlacement(area);
  assert.equal(place.x, -6);
  assert.ok(near(place.z, -11.7), 'in front of the wall, inside the zone');
  assert.equal(place.width, 2.4);
  assert.ok(near(place.height, 2.4 * 9 / 16));
  assert.ok(near(place.y - place.height / 2, 3.5), 'lower edge 3.5 m up');
  assert.ok(place.y + place.height / 2 <= area.max[1] - 0.2);
});

test('under a low ceiling it comes down, never under a metre; a narrow zone gets a narrower screen', () => {
  const low = wallPlacement({ min: [-5, 0, 2], max: [5, 3.3, 12] });
  assert.ok(near(low.y + low.height / 2, 3.1), 'top 20 cm under the ceiling');
  const cupboard = wallPlacement({ min: [0, 0, 0], max: [2, 1.5, 2] });
  assert.equal(cupboard.width, 1);
  assert.ok(near(cupboard.y - cupboard.height / 2, 1), 'never under 1 m');
  const upstairs = wallPlacement({ min: [-15, 3.6, 2], max: [-5, 6.6, 12] });
  assert.ok(upstairs.y - upstairs.height / 2 >= 3.6 + 1, 'measured from the zone floor');
});

test('text wraps at word boundaries, a long word stands alone, extra lines end in an ellipsis', () => {
  const measure = (text) => text.length * 10; // 10 px a character
  assert.deepEqual(wrapText(measure, 'the new playground in the park', 120, 5), ['the new', 'playground', 'in the park']);
  assert.deepEqual(wrapText(measure, 'supercalifragilistic', 50, 3), ['supercalifragilistic']);
  assert.deepEqual(wrapText(measure, 'one two three four five six', 80, 2), ['one two', 'three…']);
  assert.deepEqual(wrapText(measure, 'one two three four', 70, 1), ['one…']);
  assert.deepEqual(wrapText(measure, '', 100, 2), []);
});
