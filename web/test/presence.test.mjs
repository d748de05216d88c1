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

test('a scene still being prepared is retried after the retryAfter the server gave, not given up like a gone one', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const presence = connection();
  const statuses = [];
  presence.on('status', ({ status }) => statuses.push(status));
  let connects = 0;
  presence.connect = () => { connects += 1; };
  presence.onError({ type: 'error', code: 'scene_preparing', message: 'being prepared', retryAfter: 7 });
  presence.onClose({ code: 4013 });
  assert.equal(presence.status, 'preparing');
  t.mock.timers.tick(6900);
  assert.equal(connects, 0); // not sooner than the server asked
  t.mock.timers.tick(200);
  assert.equal(connects, 1);

  presence.closing = null;
  presence.onClose({ code: 4004 }); // an unknown scene, by contrast, is not retried
  assert.equal(presence.status, 'gone');
  t.mock.timers.tick(120_000);
  assert.equal(connects, 1);
  assert.ok(statuses.includes('preparing') && statuses.at(-1) === 'gone');
  presence.close();
});
