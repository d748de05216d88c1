// The stage audio worklet processors (web/js/audio-worklet.js) run in node with a stand-in AudioWorkletGlobalScope,
// at 44.1 kHz: the rate of many sound cards, where both processors resample (Chromium's tests run at 48 kHz).

import assert from 'node:assert/strict';
import { test } from 'node:test';

const processors = new Map();
globalThis.sampleRate = 44100;
globalThis.registerProcessor = (name, cls) => processors.set(name, cls);
globalThis.AudioWorkletProcessor = class {
  constructor() {
    this.posted = [];
    this.port = { postMessage: (message) => this.posted.push(message), onmessage: null };
  }
};
await import('../js/audio-worklet.js');

const QUANTUM = 128;
const sine = (hz, rate, n, phase = 0) => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * hz * (i + phase)) / rate));

/** The frequency of a mostly-sine signal from its rising zero crossings. */
function frequency(samples, rate) {
  const crossings = [];
  for (let i = 1; i < samples.length; i += 1) if (samples[i - 1] < 0 && samples[i] >= 0) crossings.push(i);
  return ((crossings.length - 1) * rate) / (crossings.at(-1) - crossings[0]);
}

test('playback: 48 kHz frames come out at the context rate with their pitch, the two slots summed', () => {
  const Playback = processors.get('stage-playback');
  const node = new Playback();
  for (let k = 0; k < 10; k += 1) node.port.onmessage({ data: { type: 'pcm', slot: 0, samples: sine(1000, 48000, 960, k * 960) } });
  const out = [];
  for (let q = 0; q < 80; q += 1) { // 9,600 samples at 48 kHz are 8,820 at 44.1 kHz: 69 quanta, then silence
    const buffer = new Float32Array(QUANTUM);
    node.process([], [[buffer]]);
    out.push(...buffer);
  }
  const heard = Float32Array.from(out.slice(0, Math.floor((9600 * 44100) / 48000) - QUANTUM));
  assert.ok(Math.abs(frequency(heard, 44100) - 1000) < 5, `${frequency(heard, 44100)} Hz`);
  assert.ok(out.slice(-QUANTUM).every((x) => x === 0), 'silence once the queue is empty');
  const levels = node.posted.filter((m) => m.type === 'level');
  assert.ok(levels.length >= 5, 'reports its queue about every 20 ms');
  assert.deepEqual(levels.at(-1).queued, [0, 0]);

  const mixer = new Playback();
  mixer.port.onmessage({ data: { type: 'pcm', slot: 0, samples: new Float32Array(960).fill(0.25) } });
  mixer.port.onmessage({ data: { type: 'pcm', slot: 1, samples: new Float32Array(960).fill(0.5) } });
  const buffer = new Float32Array(QUANTUM);
  mixer.process([], [[buffer]]);
  assert.ok(buffer.every((x) => Math.abs(x - 0.75) < 1e-6), 'chair and floor heard together');
});

test('playback: a queue is bounded to half a second, the oldest dropped first; clear empties a slot', () => {
  const node = new (processors.get('stage-playback'))();
  for (let k = 0; k < 40; k += 1) node.port.onmessage({ data: { type: 'pcm', slot: 1, samples: new Float32Array(960).fill(k) } });
  assert.ok(node.queued[1] <= 24000);
  assert.equal(node.queues[1][0][0], 40 - node.queues[1].length, 'the newest kept');
  node.port.onmessage({ data: { type: 'clear', slot: 1 } });
  assert.equal(node.queued[1], 0);
  node.port.onmessage({ data: { type: 'pcm', slot: 7, samples: new Float32Array(960) } }); // no such slot: ignored
});

test('capture: the microphone at 44.1 kHz becomes 20 ms frames at 48 kHz with their pitch and level', () => {
  const node = new (processors.get('stage-capture'))();
  const input = sine(440, 44100, 44100);
  for (let i = 0; i + QUANTUM <= input.length; i += QUANTUM) node.process([[input.subarray(i, i + QUANTUM)]]);
  const frames = node.posted.filter((m) => m.type === 'frame');
  assert.ok(Math.abs(frames.length - 50) <= 1, `${frames.length} frames for one second`);
  assert.ok(frames.every((f) => f.samples.length === 960));
  const joined = Float32Array.from(frames.flatMap((f) => [...f.samples]));
  assert.ok(Math.abs(frequency(joined, 48000) - 440) < 2, `${frequency(joined, 48000)} Hz`);
  assert.ok(Math.abs(frames[10].level - Math.SQRT1_2) < 0.02, `RMS ${frames[10].level}`);
  node.port.onmessage({ data: { type: 'stop' } });
  assert.equal(node.process([[input.subarray(0, QUANTUM)]]), false, 'stopped: the node may be collected');
});
