// The chair's console's pure rules (web/js/console-state.js): only forward state changes are offered, duties
// decide who may act, the agenda and slides step without running off an end, the countdown follows the
// server's clock, and the live stream folds into one bounded model without duplicates.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  abilities,
  allowedTransitions,
  captionText,
  clock,
  emptyModel,
  floorSeconds,
  pendingQuestions,
  reduce,
  remainingSeconds,
  staffViewStale,
  stepItem,
  stepSlide,
  MAX_CHAT,
} from '../js/console-state.js';

test('only the valid next states are offered, forward only', () => {
  assert.deepEqual(allowedTransitions('scheduled'), ['open', 'live']);
  assert.deepEqual(allowedTransitions('open'), ['live']);
  assert.deepEqual(allowedTransitions('live'), ['ended']);
  assert.deepEqual(allowedTransitions('ended'), ['archived']);
  assert.deepEqual(allowedTransitions('archived'), []);
  assert.deepEqual(allowedTransitions('nonsense'), []);
});

test('duties decide who may chair, moderate and caption; an admin may do all; a host without a duty may only look', () => {
  const staff = { chair: ['carla'], moderator: ['mo'], captioner: ['cap'] };
  assert.deepEqual(abilities({ username: 'carla', role: 'host' }, staff), { chair: true, moderator: true, captioner: true });
  assert.deepEqual(abilities({ username: 'mo', role: 'moderator' }, staff), { chair: false, moderator: true, captioner: false });
  assert.deepEqual(abilities({ username: 'cap', role: 'editor' }, staff), { chair: false, moderator: false, captioner: true });
  assert.deepEqual(abilities({ username: 'root', role: 'admin' }, {}), { chair: true, moderator: true, captioner: true });
  assert.deepEqual(abilities({ username: 'hal', role: 'host' }, staff), { chair: false, moderator: false, captioner: false });
  assert.deepEqual(abilities(null, staff), { chair: false, moderator: false, captioner: false });
});

test('the agenda steps from no item to the first, and stops at both ends', () => {
  assert.equal(stepItem(null, 3, 1), 0);
  assert.equal(stepItem(null, 3, -1), null);
  assert.equal(stepItem(0, 3, 1), 1);
  assert.equal(stepItem(2, 3, 1), null);
  assert.equal(stepItem(0, 3, -1), null);
  assert.equal(stepItem(2, 3, -1), 1);
  assert.equal(stepItem(null, 0, 1), null);
});

test('slides step in their order; from none the first is next', () => {
  const slides = [{ id: 7 }, { id: 3 }, { id: 9 }];
  assert.equal(stepSlide(slides, null, 1), 7);
  assert.equal(stepSlide(slides, 7, 1), 3);
  assert.equal(stepSlide(slides, 9, 1), null);
  assert.equal(stepSlide(slides, 3, -1), 7);
  assert.equal(stepSlide(slides, 7, -1), null);
  assert.equal(stepSlide([], null, 1), null);
});

test('a floor time limit is whole seconds within 30..1800', () => {
  assert.equal(floorSeconds('120'), 120);
  assert.equal(floorSeconds(30), 30);
  assert.equal(floorSeconds(1800), 1800);
  for (const bad of [29, 1801, '1.5', 'abc', '', null, 90.5]) assert.equal(floorSeconds(bad), null, String(bad));
});

test('the countdown follows the server clock, not this one, and never goes below zero', () => {
  const floor = { until: 1000 + 120 };
  // This clock is 50 s behind the server: the server's 1000 is our 950.
  assert.equal(remainingSeconds(floor, 950_000, 50), 120);
  assert.equal(remainingSeconds(floor, 1_009_500, 0), 111);
  assert.equal(remainingSeconds(floor, 2_000_000, 0), 0);
  assert.equal(remainingSeconds(null, 0, 0), 0);
  assert.equal(clock(0), '0:00');
  assert.equal(clock(65), '1:05');
  assert.equal(clock(600), '10:00');
  assert.equal(clock(3725), '1:02:05');
});

test('a caption line is trimmed to one line; empty and too long are refused with a reason', () => {
  assert.deepEqual(captionText('  Hello\n  council  '), { text: 'Hello council' });
  assert.deepEqual(captionText('   '), { error: 'console.caption.empty' });
  assert.deepEqual(captionText('x'.repeat(301)), { error: 'console.caption.tooLong' });
  assert.deepEqual(captionText('x'.repeat(300)), { text: 'x'.repeat(300) });
});

test('the stream folds into one model: state measures the clock skew, chat and captions are kept once and bounded', () => {
  let model = emptyModel();
  model = reduce(model, 'state', { state: 'live', now: 1000, pending: 0 }, 990_000);
  assert.equal(model.live.state, 'live');
  assert.equal(model.skew, 10);
  model = reduce(model, 'caption', { id: 1, at: 1, text: 'a' });
  model = reduce(model, 'caption', { id: 1, at: 1, text: 'a' }); // a reconnect's snapshot
  assert.equal(model.captions.length, 1);
  for (let i = 0; i < MAX_CHAT + 5; i += 1) model = reduce(model, 'chat', { id: i, handle: 'h', name: 'n', text: 't', at: i });
  assert.equal(model.chat.length, MAX_CHAT);
  assert.equal(model.chat[0].id, 5);
  model = reduce(model, 'chat_deleted', { id: 6 });
  assert.ok(!model.chat.some((line) => line.id === 6));
  model = reduce(model, 'restrictions', { muted: ['abc'], banned: [] });
  assert.deepEqual(model.restrictions, { muted: ['abc'], banned: [] });
  const before = model;
  assert.equal(reduce(model, 'unknown', {}), before);
});

test('the staff view brings pending questions and restrictions; a changed pending count makes it stale', () => {
  let model = reduce(emptyModel(), 'state', { state: 'live', now: 0, pending: 1 }, 0);
  assert.equal(staffViewStale(model), true);
  model = reduce(model, 'staff-view', {
    pendingQuestions: [{ id: 4, name: 'Ann', text: 'Why?', state: 'pending' }],
    restrictions: { ban: ['x1'], mute: ['y2'] },
    chat: [{ id: 2, handle: 'h', name: 'n', text: 'later', at: 5 }, { id: 1, handle: 'h', name: 'n', text: 'first', at: 2 }],
  });
  assert.deepEqual(pendingQuestions(model).map((q) => q.id), [4]);
  assert.deepEqual(model.restrictions, { muted: ['y2'], banned: ['x1'] });
  assert.deepEqual(model.chat.map((line) => line.id), [1, 2]);
  assert.equal(staffViewStale(model), false);
  model = reduce(model, 'state', { state: 'live', now: 0, pending: 2 }, 0);
  assert.equal(staffViewStale(model), true);
});

test("the staff view's own list of duties counts as holding them", () => {
  assert.deepEqual(abilities({ username: 'x', role: 'host' }, {}, ['moderator']), { chair: false, moderator: true, captioner: false });
  assert.deepEqual(abilities({ username: 'x', role: 'host' }, {}, ['chair']), { chair: true, moderator: true, captioner: true });
});
