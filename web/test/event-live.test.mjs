// The live meeting as an attendee's browser folds it (web/js/event-live.js): the reducer, the resident's own
// position changes, chat deletion, the floor countdown by the server's clock, and the stream wrapper's life.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EventLive, floorRemaining, formatCountdown, initialState, ownChange, queuePosition, reduce } from '../js/event-live.js';

const hands = (...names) => names.map((name) => ({ handle: name, name: name.toUpperCase(), topic: null }));
const snapshot = (fields = {}) => ({
  id: 7, state: 'live', title: { en: 'Council' }, currentItem: 0, agenda: [{ title: { en: 'Opening' } }], slide: null,
  floor: null, hands: [], questions: [], slowMode: 0, pending: 0, now: 1000, ...fields,
});
const fold = (steps, start = initialState()) => steps.reduce((state, [type, data]) => reduce(state, type, data), start);

test('a state snapshot replaces the stage and marks the stream live', () => {
  const state = fold([['state', snapshot({ currentItem: 1 })]]);
  assert.equal(state.status, 'live');
  assert.equal(state.event.currentItem, 1);
  assert.deepEqual(state.event.hands, []);
  const next = reduce(state, 'state', snapshot({ currentItem: null, slide: { id: 3, url: '/s/3', alt: { en: 'Map' } } }));
  assert.equal(next.event.currentItem, null);
  assert.equal(next.event.slide.id, 3);
  assert.equal(state.event.currentItem, 1, 'the old state is never changed');
});

test('captions and chat are unique by id and in order, so a reconnect snapshot never doubles a line', () => {
  let state = fold([
    ['caption', { id: 2, at: 10, text: 'two' }],
    ['caption', { id: 1, at: 9, text: 'one' }],
    ['chat', { id: 5, handle: 'a', name: 'Ann', text: 'hi', at: 1 }],
  ]);
  // EventSource reconnected: the server replays its last lines, then a new one.
  state = fold([
    ['caption', { id: 1, at: 9, text: 'one' }],
    ['caption', { id: 2, at: 10, text: 'two' }],
    ['caption', { id: 3, at: 11, text: 'three' }],
    ['chat', { id: 5, handle: 'a', name: 'Ann', text: 'hi', at: 1 }],
  ], state);
  assert.deepEqual(state.captions.map((c) => c.text), ['one', 'two', 'three']);
  assert.equal(state.chat.length, 1);
});

test('a deleted chat message vanishes; deleting an unknown one changes nothing', () => {
  const state = fold([
    ['chat', { id: 1, handle: 'a', name: 'Ann', text: 'first', at: 1 }],
    ['chat', { id: 2, handle: 'b', name: 'Bo', text: 'rude', at: 2 }],
    ['chat', { id: 3, handle: 'a', name: 'Ann', text: 'third', at: 3 }],
    ['chat_deleted', { id: 2 }],
  ]);
  assert.deepEqual(state.chat.map((line) => line.id), [1, 3]);
  assert.equal(reduce(state, 'chat_deleted', { id: 99 }), state);
});

test('the caption and chat logs keep only their newest lines', () => {
  let state = initialState();
  for (let id = 1; id <= 620; id += 1) state = reduce(state, 'caption', { id, at: id, text: `line ${id}` });
  assert.equal(state.captions.length, 500);
  assert.equal(state.captions[0].id, 121);
});

test('malformed messages are ignored without throwing', () => {
  const start = initialState();
  assert.equal(reduce(start, 'caption', { text: 5 }), start);
  assert.equal(reduce(start, 'chat', null), start);
  assert.equal(reduce(start, 'no_such_type', { x: 1 }), start);
  const state = reduce(start, 'state', { hands: [null, 3, { handle: 'a' }], questions: 'x', agenda: null });
  assert.deepEqual(state.event.hands, [{ handle: 'a' }]);
  assert.deepEqual(state.event.questions, []);
  assert.deepEqual(state.event.agenda, []);
});

test('the own hand position follows the queue', () => {
  const me = ['me', { handle: 'c', banned: false, muted: false, hand: null }];
  let state = fold([me, ['state', snapshot({ hands: hands('a', 'b', 'c') })]]);
  assert.equal(state.me.hand, 3);
  state = reduce(state, 'state', snapshot({ hands: hands('b', 'c') }));
  assert.equal(state.me.hand, 2);
  assert.equal(queuePosition(hands('x', 'y'), 'y'), 2);
  assert.equal(queuePosition(hands('x'), null), null);
});

test('own position changes are announced; other residents moving is not', () => {
  const me = ['me', { handle: 'c', hand: null }];
  const s0 = fold([me, ['state', snapshot({ hands: hands('a', 'b') })]]);
  const s1 = reduce(s0, 'state', snapshot({ hands: hands('a', 'b', 'c') }));
  assert.deepEqual(ownChange(s0, s1), { kind: 'raised', position: 3 });
  const s2 = reduce(s1, 'state', snapshot({ hands: hands('b', 'c'), floor: { handle: 'a', name: 'A', until: 1100, seconds: 120 } }));
  assert.deepEqual(ownChange(s1, s2), { kind: 'moved', position: 2 });
  const s3 = reduce(s2, 'state', snapshot({ hands: hands('b', 'c', 'd') }));
  assert.equal(ownChange(s2, s3), null, 'someone else joining behind changes nothing of mine');
  const s4 = reduce(s3, 'state', snapshot({ hands: hands('b', 'd'), floor: { handle: 'c', name: 'C', until: 1200, seconds: 180 } }));
  assert.deepEqual(ownChange(s3, s4), { kind: 'floor', seconds: 180 }, 'granted the floor, not "lowered"');
  const s5 = reduce(s4, 'state', snapshot({ hands: hands('b', 'd'), floor: null }));
  assert.deepEqual(ownChange(s4, s5), { kind: 'floorEnded' });
  const s6 = reduce(s5, 'state', snapshot({ hands: hands('b', 'd', 'c') }));
  const s7 = reduce(s6, 'state', snapshot({ hands: hands('b', 'd') }));
  assert.deepEqual(ownChange(s6, s7), { kind: 'lowered' });
});

test('the first snapshot announces nothing for a hand already raised before a reload', () => {
  const s0 = fold([['me', { handle: 'c', hand: 2 }]]);
  const s1 = reduce(s0, 'state', snapshot({ hands: hands('a', 'c') }));
  assert.equal(s1.me.hand, 2);
  assert.deepEqual(ownChange(s0, s1), { kind: 'raised', position: 2 });
  // … which is right: the page says where the resident stands once; a second identical snapshot is silent.
  assert.equal(ownChange(s1, reduce(s1, 'state', snapshot({ hands: hands('a', 'c') }))), null);
});

test('the floor countdown uses the server clock, whatever the browser clock says', () => {
  // The server said now = 1000 when this browser's clock read 400: the browser is 600 s behind.
  const state = reduce(initialState(), 'state', snapshot({ now: 1000, receivedAt: 400, floor: { handle: 'a', name: 'A', until: 1090, seconds: 90 } }));
  assert.equal(state.clockOffset, 600);
  assert.equal(floorRemaining(state.event.floor, 400, state.clockOffset), 90);
  assert.equal(floorRemaining(state.event.floor, 430.2, state.clockOffset), 60);
  assert.equal(floorRemaining(state.event.floor, 1000, state.clockOffset), 0, 'never negative');
  assert.equal(floorRemaining(null, 400, 0), null);
  assert.equal(formatCountdown(90), '1:30');
  assert.equal(formatCountdown(5), '0:05');
  assert.equal(formatCountdown(3725), '1:02:05');
  assert.equal(formatCountdown(-3), '0:00');
});

test('a removal of this browser is final; of someone else is ignored', () => {
  const state = fold([['me', { handle: 'me1' }], ['state', snapshot()]]);
  assert.equal(reduce(state, 'removed', { handle: 'other', banned: true }), state);
  const removed = reduce(state, 'removed', { handle: 'me1', banned: false });
  assert.deepEqual(removed.removed, { banned: false });
  assert.equal(removed.status, 'removed');
  assert.equal(reduce(removed, 'state', snapshot({ currentItem: 3 })), removed, 'nothing more after removal');
  const banned = fold([['me', { handle: 'me1', banned: true }]]);
  assert.deepEqual(banned.removed, { banned: true });
});

test('a deleted meeting is final and closes the stream', () => {
  const state = fold([['state', snapshot()], ['caption', { id: 1, at: 1, text: 'hello' }]]);
  const deleted = reduce(state, 'deleted', { id: 7 });
  assert.equal(deleted.deleted, true);
  assert.equal(deleted.status, 'deleted');
  assert.equal(reduce(deleted, 'caption', { id: 2, at: 2, text: 'more' }), deleted);
  assert.equal(reduce(deleted, 'error', {}), deleted, 'no "reconnecting" after the end');
});

test('restrictions mute or ban this browser by its handle', () => {
  const state = fold([['me', { handle: 'h1' }]]);
  const muted = reduce(state, 'restrictions', { muted: ['h1'], banned: [] });
  assert.equal(muted.me.muted, true);
  assert.equal(reduce(muted, 'restrictions', { muted: [], banned: [] }).me.muted, false);
  assert.deepEqual(reduce(state, 'restrictions', { muted: [], banned: ['h1'] }).removed, { banned: true });
});

class FakeSource extends EventTarget {
  static last = null;
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    this.closed = false;
    FakeSource.last = this;
  }
  send(type, data) {
    const event = new Event(type);
    event.data = JSON.stringify(data);
    this.dispatchEvent(event);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
}

test('the stream asks /me first, folds messages and closes itself when this browser is removed', async () => {
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { ok: true, json: async () => ({ handle: 'h9', banned: false, muted: false, hand: null }) };
  };
  const live = new EventLive(4, { EventSourceImpl: FakeSource, fetchImpl, clock: () => 100 });
  const changes = [];
  live.on('change', ({ type }) => changes.push(type));
  await live.start();
  assert.deepEqual(asked, ['/api/events/4/me']);
  const source = FakeSource.last;
  assert.equal(source.url, '/api/events/4/live');
  source.dispatchEvent(new Event('open'));
  source.send('state', snapshot({ now: 130, hands: hands('h9') }));
  assert.equal(live.state.clockOffset, 30);
  assert.equal(live.state.me.hand, 1);
  source.send('removed', { handle: 'h9', banned: true });
  assert.equal(source.closed, true);
  assert.equal(live.source, null);
  assert.equal(live.state.status, 'removed');
  assert.deepEqual(changes, ['me', 'open', 'state', 'removed']);
});

test('a banned browser never opens the stream', async () => {
  FakeSource.last = null;
  const fetchImpl = async () => ({ ok: true, json: async () => ({ handle: 'h9', banned: true, muted: false, hand: null }) });
  const live = new EventLive(4, { EventSourceImpl: FakeSource, fetchImpl });
  await live.start();
  assert.equal(FakeSource.last, null);
  assert.deepEqual(live.state.removed, { banned: true });
});

test('the recording flag of the stage reaches the state everyone reads (listening or not)', () => {
  assert.equal(fold([['state', snapshot()]]).event.recording, false);
  assert.equal(fold([['state', snapshot({ recording: true })]]).event.recording, true);
});
