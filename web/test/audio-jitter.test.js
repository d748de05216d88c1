// The jitter buffer of stage audio (web/js/audio-jitter.js), driven by simulated arrivals and a playback that
// takes one 20 ms frame every 20 ms — what the AudioWorklet's clock does in the browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { JitterBuffer, MAX_DELAY_MS, MIN_DELAY_MS } from '../js/audio-jitter.js';
import { nextSeq } from '../js/audio-packet.js';

const FRAME = 20;

/** A seeded pseudo-random generator (mulberry32), so a failing run can be replayed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` frames sent every 20 ms from `start` (seq from `seq0`), each with the arrival `delay(i)` after sending. */
function stream(count, { seq0 = 0, ts0 = 0, start = 0, delay = () => 10 } = {}) {
  const packets = [];
  for (let i = 0; i < count; i += 1) {
    const sent = start + i * FRAME;
    packets.push({
      seq: nextSeq(seq0, i),
      timestamp: (ts0 + i * 960) % 2 ** 32,
      payload: new Uint8Array([i & 0xff]),
      arrival: sent + delay(i),
      index: i,
    });
  }
  return packets;
}

/** Feeds the packets at their arrival times and pulls a frame every 20 ms from `from` to `until`; the pulls' results. */
function run(buffer, packets, { from = 0, until } = {}) {
  const arrivals = [...packets].sort((a, b) => a.arrival - b.arrival);
  const end = until ?? Math.max(...packets.map((p) => p.arrival)) + 1000;
  const out = [];
  let k = 0;
  for (let now = from; now <= end; now += FRAME) {
    while (k < arrivals.length && arrivals[k].arrival <= now) {
      const { arrival, index, ...packet } = arrivals[k];
      buffer.push(packet, arrival);
      k += 1;
    }
    out.push({ now, ...buffer.pull(now) });
  }
  return out;
}

const played = (out) => out.filter((r) => r.kind === 'frame').map((r) => r.seq);

test('an even stream plays every frame in order after the minimum delay', () => {
  const buffer = new JitterBuffer();
  const out = run(buffer, stream(100));
  assert.deepEqual(played(out), [...Array(100).keys()]);
  const first = out.find((r) => r.kind === 'frame');
  assert.ok(first.now - 10 >= MIN_DELAY_MS, `first frame played ${first.now - 10} ms after arriving`);
  assert.equal(buffer.targetDelayMs, MIN_DELAY_MS);
  assert.equal(buffer.stats.lost, 0);
  assert.equal(buffer.stats.late, 0);
  // After the last frame: a few concealed, then the buffer waits for the next burst of speech.
  assert.equal(out.at(-1).kind, 'wait');
  assert.equal(buffer.stats.underruns, 1);
});

test('packets out of order come out in sequence order', () => {
  const packets = stream(40, { delay: (i) => (i % 2 ? 5 : 35) }); // every even frame overtaken by the next odd one
  const buffer = new JitterBuffer();
  assert.deepEqual(played(run(buffer, packets)), [...Array(40).keys()]);
  assert.equal(buffer.stats.lost, 0);
});

test('the sequence number wraps from 65535 to 0 without a hiccup', () => {
  const buffer = new JitterBuffer();
  const packets = stream(30, { seq0: 65520, ts0: 2 ** 32 - 960 * 10 });
  const out = played(run(buffer, packets));
  assert.deepEqual(out, packets.map((p) => p.seq));
  assert.ok(out.includes(65535) && out.includes(0));
  assert.equal(buffer.stats.lost + buffer.stats.late + buffer.stats.resets, 0);
  assert.equal(buffer.targetDelayMs, MIN_DELAY_MS, 'the timestamp wrap is no jitter');
});

test('a frame that never comes is reported lost in its place; the next ones play', () => {
  const packets = stream(30).filter((p) => p.seq !== 12);
  const buffer = new JitterBuffer();
  const out = run(buffer, packets).filter((r) => r.kind !== 'wait');
  const at = out.findIndex((r) => r.seq === 12);
  assert.equal(out[at].kind, 'lost');
  assert.equal(out[at - 1].seq, 11);
  assert.equal(out[at + 1].seq, 13);
  assert.equal(out[at + 1].kind, 'frame');
});

test('a frame later than its turn is dropped as late (and played never)', () => {
  const packets = stream(30, { delay: (i) => (i === 15 ? 400 : 10) });
  const buffer = new JitterBuffer();
  const out = run(buffer, packets);
  assert.ok(!played(out).includes(15));
  assert.equal(buffer.stats.late, 1);
  assert.equal(out.find((r) => r.seq === 15).kind, 'lost');
});

test('the target delay grows with jitter, stays within 60..300 ms, and comes back down when the link calms', () => {
  const rnd = random(42);
  const jittery = stream(300, { delay: () => 10 + rnd() * 120 });
  const calm = stream(300, { seq0: 300, ts0: 300 * 960, start: 300 * FRAME, delay: () => 10 });
  const buffer = new JitterBuffer();
  run(buffer, jittery, { until: 300 * FRAME });
  const noisy = buffer.targetDelayMs;
  assert.ok(noisy >= 110 && noisy <= 160, `target ${noisy} ms for 0–120 ms of jitter`);
  run(buffer, calm, { from: 300 * FRAME + FRAME });
  assert.equal(buffer.targetDelayMs, MIN_DELAY_MS);

  const wild = new JitterBuffer();
  const rnd2 = random(7);
  run(wild, stream(200, { delay: () => rnd2() * 2000 }));
  assert.equal(wild.targetDelayMs, MAX_DELAY_MS, 'never above 300 ms');
});

test('on a jittery link the adapted delay keeps late frames rare', () => {
  const rnd = random(1234);
  // Mostly 20–60 ms, with one packet in ten held up to 150 ms (a busy Wi-Fi).
  const packets = stream(1500, { delay: () => 20 + rnd() * 40 + (rnd() < 0.1 ? rnd() * 110 : 0) });
  const buffer = new JitterBuffer();
  const out = run(buffer, packets);
  const frames = played(out).length;
  assert.ok(frames >= 1500 * 0.97, `${frames} of 1500 frames played (late ${buffer.stats.late}, dropped ${buffer.stats.dropped})`);
  assert.ok(buffer.targetDelayMs > MIN_DELAY_MS);
  assert.ok(buffer.stats.stretched > 0, "the playback moved back as the jitter showed");
  // The same link without adaptation (held at 60 ms) loses many more.
  const fixed = new JitterBuffer({ maxDelayMs: MIN_DELAY_MS });
  run(fixed, packets);
  assert.ok(fixed.stats.late > 2 * Math.max(1, buffer.stats.late), `fixed 60 ms: ${fixed.stats.late} late vs ${buffer.stats.late}`);
});

test('a pause in speech is not jitter: the buffer empties, waits, and restarts at the target delay', () => {
  const first = stream(50);
  // The speaker stops for 2 s; their timestamps carry on from where they stopped.
  const second = stream(50, { seq0: 50, ts0: 50 * 960, start: 50 * FRAME + 2000 });
  const buffer = new JitterBuffer();
  const out = run(buffer, [...first, ...second]);
  assert.deepEqual(played(out), [...Array(100).keys()]);
  assert.equal(buffer.stats.late, 0);
  assert.equal(buffer.targetDelayMs, MIN_DELAY_MS, 'the 2 s gap did not raise the target');
  assert.equal(buffer.stats.underruns, 2);
});

test('another stream in the slot (a far sequence jump) starts afresh', () => {
  const buffer = new JitterBuffer();
  const out1 = run(buffer, stream(20));
  const out2 = run(buffer, stream(20, { seq0: 40000, ts0: 123456, start: 2000 }), { from: 2000 });
  assert.deepEqual(played(out1), [...Array(20).keys()]);
  assert.deepEqual(played(out2), stream(20, { seq0: 40000 }).map((p) => p.seq));
  assert.equal(buffer.stats.resets, 1);
});

test('a burst after a stall is caught up: the delay comes back near the target', () => {
  // 30 frames held for 600 ms arrive at once, then the stream is even again.
  const packets = stream(300, { delay: (i) => (i < 30 ? 600 - i * FRAME : 10) });
  const buffer = new JitterBuffer();
  const out = run(buffer, packets, { until: 300 * FRAME });
  assert.ok(buffer.stats.dropped > 0);
  assert.ok(buffer.spanMs() <= buffer.targetDelayMs + 3 * FRAME, `still ${buffer.spanMs()} ms buffered`);
  const seqs = played(out);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'still in order');
});

test('duplicates are played once', () => {
  const packets = stream(20);
  const buffer = new JitterBuffer();
  const out = run(buffer, [...packets, ...packets.map((p) => ({ ...p, arrival: p.arrival + 1 }))]);
  assert.deepEqual(played(out), [...Array(20).keys()]);
  assert.equal(buffer.stats.duplicate, 20);
});
