// Frame waiters — promises that settle after a number of simulated frames (`civicSpace.nextFrame()`), so a
// test that released a key reads a state that includes the whole hold, even at 3 frames a second.
//
// Pure (no DOM, no three.js). Invariants: a waiter asked for n frames resolves on the n-th `tick()` after
// it was added (so the state it then reads includes those frames); waiters resolve in the order they were added.

export class FrameWaiters {
  constructor() {
    this.waiting = [];
  }

  /** A promise resolved after `frames` more ticks (at least one). */
  wait(frames = 2) {
    return new Promise((resolve) => this.waiting.push({ frames: Math.max(1, frames), resolve }));
  }

  get size() {
    return this.waiting.length;
  }

  /** One frame was simulated: counts every waiter down and resolves those that reach zero. */
  tick() {
    if (!this.waiting.length) return;
    this.waiting = this.waiting.filter((waiter) => --waiter.frames > 0 || void waiter.resolve());
  }
}
