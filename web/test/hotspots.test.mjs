// Hotspot version ordering (web/js/hotspots.js): events and HTTP answers may arrive in any order; the newest
// version always wins, a deleted hotspot is never resurrected by a late upsert, and an echo changes nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Hotspots, keepsHeld, shouldApply } from '../js/hotspots.js';

const hotspot = (id, version, extra = {}) => ({ id, version, position: [1, 2, 3], title: `v${version}`, ...extra });

test('shouldApply: older never, newer always, same version only when it changes something', () => {
  assert.equal(shouldApply(undefined, false, 'upsert', 1), true);
  assert.equal(shouldApply(3, true, 'upsert', 2), false);
  assert.equal(shouldApply(3, false, 'delete', 2), false);
  assert.equal(shouldApply(3, true, 'upsert', 4), true);
  assert.equal(shouldApply(3, true, 'delete', 4), true);
  assert.equal(shouldApply(3, true, 'upsert', 3), false); // echo of our own write
  assert.equal(shouldApply(3, false, 'delete', 3), false); // echo of our own delete
  assert.equal(shouldApply(3, true, 'delete', 3), true);
  assert.equal(shouldApply(3, false, 'upsert', 3), true);
});

test('keepsHeld: a full load keeps what we hold only when ours is newer', () => {
  assert.equal(keepsHeld(undefined, 1), false);
  assert.equal(keepsHeld(2, 1), true);
  assert.equal(keepsHeld(2, 2), false);
  assert.equal(keepsHeld(1, 2), false);
});

test('events applied in any order end with the newest version of each hotspot', () => {
  const events = [
    { action: 'upsert', hotspot: hotspot(1, 1) },
    { action: 'upsert', hotspot: hotspot(1, 2) },
    { action: 'upsert', hotspot: hotspot(1, 3) },
    { action: 'upsert', hotspot: hotspot(2, 1) },
    { action: 'delete', hotspot: hotspot(2, 2) },
  ];
  const orders = [[0, 1, 2, 3, 4], [2, 1, 0, 4, 3], [1, 2, 0, 3, 4], [4, 0, 3, 2, 1]];
  for (const order of orders) {
    const store = new Hotspots({ sceneId: 'town-hall', storage: null });
    for (const index of order) store.applyEvent(events[index]);
    assert.deepEqual(store.list().map((h) => [h.id, h.version]), [[1, 3]], `order ${order}`);
  }
});

test('a late upsert cannot resurrect a deleted hotspot, a newer one can', () => {
  const store = new Hotspots({ sceneId: 'town-hall', storage: null });
  const changes = [];
  store.on('change', (change) => changes.push(change.action));
  store.applyEvent({ action: 'upsert', hotspot: hotspot(7, 1) });
  assert.equal(store.applyEvent({ action: 'delete', hotspot: hotspot(7, 2) }), true);
  assert.equal(store.applyEvent({ action: 'upsert', hotspot: hotspot(7, 1) }), false);
  assert.equal(store.get(7), null);
  assert.equal(store.applyEvent({ action: 'upsert', hotspot: hotspot(7, 3) }), true); // restored
  assert.deepEqual(changes, ['upsert', 'delete', 'upsert']);
});

test('events of another scene and malformed hotspots are ignored', () => {
  const store = new Hotspots({ sceneId: 'town-hall', storage: null });
  assert.equal(store.applyEvent({ action: 'upsert', hotspot: hotspot(1, 1, { scene: 'square' }) }), false);
  assert.equal(store.applyEvent({ action: 'upsert', hotspot: { id: 1, version: 1, position: [1, 2] } }), false);
  assert.equal(store.applyEvent({ action: 'upsert', hotspot: null }), false);
  assert.equal(store.list().length, 0);
});
