// Frame waiters (web/js/frame-waiters.js): `civicSpace.nextFrame(n)` settles after n simulated frames.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameWaiters } from '../js/frame-waiters.js';

const settled = async (promise) => {
  let done = false;
  promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

test('a waiter for two frames settles on the second frame, not the first', async () => {
  const waiters = new FrameWaiters();
  const waiting = waiters.wait(2);
  waiters.tick();
  assert.equal(await settled(waiting), false);
  waiters.tick();
  assert.equal(await settled(waiting), true);
  assert.equal(waiters.size, 0);
});

test('waiters added at different times each count their own frames', async () => {
  const waiters = new FrameWaiters();
  const early = waiters.wait(2);
  waiters.tick();
  const late = waiters.wait(2);
  waiters.tick();
  assert.equal(await settled(early), true);
  assert.equal(await settled(late), false);
  waiters.tick();
  assert.equal(await settled(late), true);
});

test('asking for zero frames still waits for the next one', async () => {
  const waiters = new FrameWaiters();
  const waiting = waiters.wait(0);
  assert.equal(await settled(waiting), false);
  waiters.tick();
  assert.equal(await settled(waiting), true);
});
