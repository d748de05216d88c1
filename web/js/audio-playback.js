// AudioPlayback — the stage heard in this browser: Opus packets → one jitter buffer per speaker slot → decoder →
// the 'stage-playback' AudioWorklet (audio-worklet.js) → GainNode (volume, mute) → AnalyserNode → loudspeakers.
//
// Decoding: WebCodecs AudioDecoder('opus') where the browser has it; else the WebAssembly Opus decoder built
// into web/vendor/opus-decoder.js (npm `opus-decoder`, same origin; the CSP allows 'wasm-unsafe-eval').
// Pacing: the worklet reports how much each slot has queued about every 20 ms of output and this pulls frames
// from the jitter buffers until two frames are queued — so the audio hardware's clock drives the playback.
// A lost frame is concealed with 20 ms of silence faded from the last sample (no click).
//
// Invariants: the AudioContext is made in the constructor, which the caller runs inside the user's gesture
// (the "Listen" press), so browsers that block autoplay let it run; decoded frames reach the worklet in
// sequence order even though AudioDecoder answers asynchronously (one FIFO per slot); nothing here touches
// the network.

import { JitterBuffer } from './audio-jitter.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from './audio-packet.js';

const WORKLET_URL = '/static/js/audio-worklet.js';
const FALLBACK_URL = '../vendor/opus-decoder.js';
const QUEUE_FRAMES = 2; // frames kept queued in the worklet (40 ms) beyond the jitter buffer
const SLOTS = 2;

/** 'webcodecs' when this browser decodes Opus with WebCodecs, else 'wasm' (the fallback decoder). */
export async function decoderKind() {
  if (typeof AudioDecoder === 'undefined') return 'wasm';
  try {
    const { supported } = await AudioDecoder.isConfigSupported({ codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1 });
    return supported ? 'webcodecs' : 'wasm';
  } catch {
    return 'wasm';
  }
}

/** Whether this browser can play the stage at all (Web Audio with AudioWorklet, and WebAssembly for the fallback). */
export function playbackSupported() {
  return typeof AudioContext !== 'undefined' && typeof AudioWorkletNode !== 'undefined';
}

export class AudioPlayback {
  constructor({ volume = 1, muted = false } = {}) {
    this.context = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: 'interactive' });
    this.volume = volume;
    this.muted = muted;
    this.buffers = Array.from({ length: SLOTS }, () => new JitterBuffer());
    this.slots = Array.from({ length: SLOTS }, () => ({ order: [], awaiting: [], decoder: null, timestamp: 0, last: 0 }));
    this.node = null;
    this.ready = this.setUp();
    this.ready.catch(() => {}); // reported where awaited
  }

  async setUp() {
    const ctx = this.context;
    this.kind = await decoderKind();
    if (this.kind === 'wasm') {
      const { OpusDecoder } = await import(FALLBACK_URL);
      this.OpusDecoder = OpusDecoder;
    }
    await ctx.audioWorklet.addModule(WORKLET_URL);
    this.node = new AudioWorkletNode(ctx, 'stage-playback', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
    this.gain = ctx.createGain();
    this.analyser = ctx.createAnalyser(); // the level a page may show; tests read what is heard from it
    this.analyser.fftSize = 2048;
    this.node.connect(this.gain).connect(this.analyser).connect(ctx.destination);
    this.applyGain();
    this.node.port.onmessage = ({ data }) => {
      if (data.type === 'level') this.feed(data.queued);
    };
    for (let slot = 0; slot < SLOTS; slot += 1) await this.makeDecoder(slot);
  }

  /** Whether the context runs (false: the browser still blocks audio until a gesture). */
  get running() {
    return this.context.state === 'running';
  }

  /** Resumes the context (call it in a user gesture); resolves to `running`. */
  async resume() {
    try {
      await this.context.resume();
    } catch {
      // blocked: the caller shows "press to listen"
    }
    return this.running;
  }

  /** One packet from the server ({slot, seq, timestamp, payload}), arrived at `arrivalMs` (performance.now()). */
  receive(packet, arrivalMs = performance.now()) {
    if (packet.slot >= SLOTS) return;
    this.buffers[packet.slot].push(packet, arrivalMs);
  }

  setVolume(volume) {
    this.volume = Math.min(1, Math.max(0, volume));
    this.applyGain();
  }

  setMuted(muted) {
    this.muted = Boolean(muted);
    this.applyGain();
  }

  applyGain() {
    if (!this.gain) return;
    const value = this.muted ? 0 : this.volume;
    this.gain.gain.setTargetAtTime(value, this.context.currentTime, 0.02);
  }

  /** What the jitter buffers measured, per slot (for the page's diagnostics and tests). */
  stats() {
    return this.buffers.map((buffer) => ({ targetDelayMs: buffer.targetDelayMs, ...buffer.stats }));
  }

  async close() {
    this.closed = true;
    for (const slot of this.slots) {
      try {
        slot.decoder?.close?.();
        slot.decoder?.free?.();
      } catch {
        // already closed
      }
    }
    this.node?.disconnect();
    await this.context.close().catch(() => {});
  }

  // --- the audio clock pulls ----------------------------------------------------------------------------------

  feed(queued) {
    if (this.closed) return;
    const now = performance.now();
    for (let slot = 0; slot < SLOTS; slot += 1) {
      const state = this.slots[slot];
      let ahead = (queued[slot] ?? 0) + state.order.length * FRAME_SAMPLES;
      while (ahead < QUEUE_FRAMES * FRAME_SAMPLES) {
        const next = this.buffers[slot].pull(now);
        if (next.kind === 'wait') break;
        if (next.kind === 'frame') this.decode(slot, next);
        else this.conceal(slot);
        ahead += FRAME_SAMPLES;
      }
    }
  }

  decode(slot, frame) {
    const state = this.slots[slot];
    const entry = { samples: null };
    state.order.push(entry);
    if (this.kind === 'wasm') {
      try {
        const { channelData, samplesDecoded } = state.decoder.decodeFrame(frame.payload);
        entry.samples = samplesDecoded ? channelData[0].slice(0, samplesDecoded) : this.silence(state);
      } catch {
        entry.samples = this.silence(state);
      }
      this.flush(slot);
      return;
    }
    state.awaiting.push(entry);
    state.timestamp += 20000;
    try {
      state.decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: state.timestamp, data: frame.payload }));
    } catch {
      this.decoderFailed(slot);
    }
  }

  conceal(slot) {
    const state = this.slots[slot];
    state.order.push({ samples: this.silence(state) });
    this.flush(slot);
  }

  /** 20 ms that fade from the last sample played to zero (a hard cut to silence would click). */
  silence(state) {
    const samples = new Float32Array(FRAME_SAMPLES);
    for (let i = 0; i < 96; i += 1) samples[i] = state.last * (1 - i / 96);
    return samples;
  }

  /** Sends the decoded frames at the head of the slot's FIFO to the worklet, in order. */
  flush(slot) {
    const state = this.slots[slot];
    while (state.order.length && state.order[0].samples) {
      const { samples } = state.order.shift();
      state.last = samples[samples.length - 1] || 0;
      this.node.port.postMessage({ type: 'pcm', slot, samples }, [samples.buffer]);
    }
  }

  async makeDecoder(slot) {
    const state = this.slots[slot];
    if (this.kind === 'wasm') {
      state.decoder = new this.OpusDecoder({ channels: 1, streamCount: 1, coupledStreamCount: 0, channelMappingTable: [0], sampleRate: SAMPLE_RATE });
      await state.decoder.ready;
      return;
    }
    state.decoder = new AudioDecoder({
      output: (data) => {
        const entry = state.awaiting.shift();
        const samples = new Float32Array(data.numberOfFrames);
        try {
          data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
        } finally {
          data.close();
        }
        if (!entry) return;
        entry.samples = samples;
        this.flush(slot);
      },
      error: () => this.decoderFailed(slot),
    });
    state.decoder.configure({ codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1 });
  }

  /** A decoder that failed is closed for good: its frames waiting become silence, and a new one takes over. */
  decoderFailed(slot) {
    const state = this.slots[slot];
    for (const entry of state.awaiting.splice(0)) entry.samples = this.silence(state);
    this.flush(slot);
    if (!this.closed) this.makeDecoder(slot).catch(() => {});
  }
}
