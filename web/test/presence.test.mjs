// Presence hands every server message type it does not own to whoever subscribed to that type, as it came;
// the types it owns keep their own shapes. Hotspots subscribes as a consumer of the content events.

import assert from 'node:assert/strict';
import { test } from 'node:test';

globalThis.window ??= new EventTarget(); // Presence listens to 'online'; nothing else of the DOM is needed

const { Presence } = await import('../js/presence.js');
const { Hotspots } = await import('../js/hotspots.js');

const connection = () => new Presence({ sceneId: 'town-hall', url: 'ws://test/ws', storage: null, WebSocketImpl: class {} });

test('content events inside a batch reach their subscribers as they came, in order', () => {
  const presence = connection();
  const seen = [];
  presence.on('hotspot', (message) => seen.push(['hotspot', message.action]));
  presence.on('agenda', (message) => seen.push(['agenda', message.item])); // a type this module never heard of
  presence.onMessage({
    type: 'batch',
    events: [
      { type: 'hotspot', action: 'upsert', hotspot: { id: 1 } },
      { type: 'agenda', item: 3 },
      { type: 'hotspot', action: 'delete', hotspot: { id: 1 } },
      { type: 'nobody_listens' },
    ],
  });
  assert.deepEqual(seen, [['hotspot', 'upsert'], ['agenda', 3], ['hotspot', 'delete']]);
  presence.close();
});

test('a server message named like one of its own events is never passed through raw', () => {
  const presence = connection();
  const seen = [];
  for (const type of ['frame', 'status', 'members', 'problem', 'overflow']) presence.on(type, (detail) => seen.push(detail));
  for (const type of ['frame', 'status', 'members', 'problem', 'overflow']) presence.onMessage({ type, junk: true });
  assert.deepEqual(seen, []);
  presence.close();
});

test('hotspot and proposal events reach Hotspots through the connection', () => {
  const presence = connection();
  const store = new Hotspots({ sceneId: 'town-hall', storage: null });
  store.attach(presence);
  presence.onMessage({
    type: 'batch',
    events: [{ type: 'hotspot', action: 'upsert', hotspot: { id: 4, version: 1, position: [0, 1, 0], proposalRef: 'local:5' } }],
  });
  assert.equal(store.get(4).proposalRef, 'local:5');
  presence.onMessage({ type: 'proposal', proposal: { ref: 'local:5', source: 'local', title: 'Benches', supports: 2 } });
  presence.onMessage({ type: 'batch', events: [{ type: 'proposal_supports', ref: 'local:5', supports: 9 }] });
  assert.equal(store.cachedProposal('local:5').supports, 9);
  presence.close();
});
