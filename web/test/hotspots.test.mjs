// Hotspots (web/js/hotspots.js): events and HTTP answers may arrive in any order; the newest version always
// wins, a deleted hotspot is never resurrected by a late upsert, an echo changes nothing; and after a `resync`
// (live events missed) the store re-reads the hotspots and the proposals it shows, once for a burst.

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

// --- catching up after a resync (the server lost the bus for a while: live events may have been missed) ---

/** A fake server behind fetch: the hotspot list and the live state of proposals, counting requests. */
function fakeServer({ hotspots, proposals }) {
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(String(url));
    const path = new URL(String(url), 'http://civic.test');
    if (path.pathname === '/api/scenes/town-hall/hotspots') return Response.json({ hotspots: hotspots() });
    const ref = path.searchParams.get('ref');
    if (path.pathname === '/api/proposals/live' && proposals()[ref]) return Response.json(proposals()[ref]);
    return Response.json({ error: { code: 'not_found', message: 'Nothing here.' } }, { status: 404 });
  };
  return asked;
}

/** Resolves with the next `type` the store emits. */
const next = (store, type) => new Promise((resolve) => {
  const off = store.on(type, (detail) => {
    off();
    resolve(detail);
  });
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

class FakeConnection {
  constructor() {
    this.handlers = new Map();
  }

  on(type, handler) {
    this.handlers.set(type, [...(this.handlers.get(type) || []), handler]);
  }

  deliver(message) {
    for (const handler of this.handlers.get(message.type) || []) handler(message);
  }
}

test('a resync makes Hotspots reload the scene and re-read the proposals it shows, once for a burst', async () => {
  let listed = [hotspot(1, 1, { proposalRef: 'local:5' })];
  let live = { 'local:5': { ref: 'local:5', source: 'local', title: 'Library bus', supports: 3 } };
  const asked = fakeServer({ hotspots: () => listed, proposals: () => live });
  const store = new Hotspots({ sceneId: 'town-hall', storage: null, resyncSpreadMs: 0 });
  const connection = new FakeConnection();
  store.attach(connection);
  await store.load();
  await store.proposal('local:5');
  const shown = [];
  store.on('proposal', (proposal) => shown.push(proposal.supports));
  let resets = 0;
  store.on('reset', () => resets++);

  // Meanwhile, on another machine: a hotspot placed, the proposal supported; the events never came.
  listed = [...listed, hotspot(2, 1, { title: 'Opening hours' })];
  live = { 'local:5': { ...live['local:5'], supports: 9 } };
  asked.length = 0;
  const reread = next(store, 'proposal');
  for (let i = 0; i < 3; i++) connection.deliver({ type: 'resync' }); // one per process that regained the bus
  await reread;
  await settle();

  assert.deepEqual(store.list().map((h) => h.id), [1, 2]);
  assert.equal(store.cachedProposal('local:5').supports, 9);
  assert.deepEqual(shown, [9]);
  assert.equal(resets, 1);
  assert.deepEqual(asked.map((url) => new URL(url, 'http://civic.test').pathname),
    ['/api/scenes/town-hall/hotspots', '/api/proposals/live']);
});

test('a hotspot deleted while events were missed is gone after the resync, an unchanged proposal stays quiet', async () => {
  let listed = [hotspot(1, 1, { proposalRef: 'local:5' }), hotspot(2, 1)];
  const live = { 'local:5': { ref: 'local:5', source: 'local', title: 'Library bus', supports: 3 } };
  fakeServer({ hotspots: () => listed, proposals: () => live });
  const store = new Hotspots({ sceneId: 'town-hall', storage: null, resyncSpreadMs: 0 });
  const connection = new FakeConnection();
  store.attach(connection);
  await store.load();
  await store.proposal('local:5');
  const shown = [];
  store.on('proposal', (proposal) => shown.push(proposal));
  listed = [listed[0]];
  const reset = next(store, 'reset');
  connection.deliver({ type: 'resync' });
  await reset;
  await settle();
  assert.deepEqual(store.list().map((h) => h.id), [1]);
  assert.deepEqual(shown, []);
});

test('a resync while the server cannot answer keeps what is held and never throws', async () => {
  fakeServer({ hotspots: () => [hotspot(1, 1)], proposals: () => ({}) });
  const store = new Hotspots({ sceneId: 'town-hall', storage: null, resyncSpreadMs: 0 });
  await store.load();
  globalThis.fetch = async () => {
    throw new Error('offline');
  };
  await store.catchUp();
  assert.deepEqual(store.list().map((h) => h.id), [1]);
});
