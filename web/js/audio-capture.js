// AudioCapture — this browser's microphone as stage audio: getUserMedia (echo cancellation, noise suppression and
// automatic gain on) → the 'stage-capture' AudioWorklet (audio-worklet.js: 48 kHz mono, 20 ms frames, RMS level)
// → WebCodecs AudioEncoder (Opus, 24 kb/s, 20 ms frames) → one binary packet per frame (audio-packet.js).
//
// The sequence number and timestamp belong to the caller's `clock` ({seq, timestamp, at}), so they carry on
// across the microphone switched off and on: the timestamp jumps by the real time of the pause (as RTP's does), so
// a listener's jitter buffer never mistakes a new burst of speech for late packets.
// Invariants: the microphone's track is stopped on `stop()` (the browser's recording indicator goes off); no
// packet over the protocol's 400 bytes is sent; nothing is sent before the encoder has a frame.

import { FRAME_SAMPLES, MAX_OPUS_BYTES, SAMPLE_RATE, encodeSpeakerPacket, nextSeq } from './audio-packet.js';

const WORKLET_URL = '/static/js/audio-worklet.js';
export const CONSTRAINTS = { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } };
export const ENCODER_CONFIG = { codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1, bitrate: 24000, opus: { frameDuration: 20000 } };

/** Why this browser cannot speak ('no_microphone_api' | 'no_encoder'), or null when it can. */
export async function captureUnsupported() {
  if (!globalThis.navigator?.mediaDevices?.getUserMedia || typeof AudioWorkletNode === 'undefined') return 'no_microphone_api';
  if (typeof AudioEncoder === 'undefined') return 'no_encoder';
  try {
    const { supported } = await AudioEncoder.isConfigSupported(ENCODER_CONFIG);
    return supported ? null : 'no_encoder';
  } catch {
    return 'no_encoder';
  }
}

/** A fresh packet clock: a random first seq and timestamp (so two talks never look like one stream restarting at 0). */
export function packetClock() {
  return { seq: Math.floor(Math.random() * 0x10000), timestamp: Math.floor(Math.random() * 2 ** 31), at: null };
}

export class AudioCapture {
  /**
   * @param {{onPacket: (bytes: Uint8Array) => void, onLevel?: (rms: number) => void, clock: {seq: number, timestamp: number, at: number|null}}} options
   */
  constructor({ onPacket, onLevel = () => {}, clock }) {
    Object.assign(this, { onPacket, onLevel, clock });
    this.stopped = false;
  }

  /** Asks for the microphone and starts sending; rejects with the browser's error (NotAllowedError: refused). */
  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
    if (this.stopped) return this.release();
    this.context = new AudioContext({ latencyHint: 'interactive' });
    await this.context.audioWorklet.addModule(WORKLET_URL);
    if (this.stopped) return this.release();
    this.source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, 'stage-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
    // Pulled by the graph only when it reaches the destination: through a gain of 0 (nothing is heard).
    this.sink = this.context.createGain();
    this.sink.gain.value = 0;
    this.source.connect(this.node).connect(this.sink).connect(this.context.destination);
    // The pause since the last talk moves the timestamp on (never back).
    const now = performance.now();
    if (this.clock.at !== null) {
      const paused = Math.round(((now - this.clock.at) * SAMPLE_RATE) / 1000 / FRAME_SAMPLES) * FRAME_SAMPLES;
      this.clock.timestamp = (this.clock.timestamp + Math.max(0, paused)) % 2 ** 32;
    }
    this.frames = 0;
    this.encoder = new AudioEncoder({ output: (chunk) => this.send(chunk), error: () => this.stop() });
    this.encoder.configure(ENCODER_CONFIG);
    this.node.port.onmessage = ({ data }) => {
      if (data.type !== 'frame' || this.stopped || this.encoder.state !== 'configured') return;
      this.onLevel(data.level);
      const audio = new AudioData({
        format: 'f32-planar',
        sampleRate: SAMPLE_RATE,
        numberOfFrames: data.samples.length,
        numberOfChannels: 1,
        timestamp: this.frames * 20000,
        data: data.samples,
      });
      this.frames += 1;
      this.encoder.encode(audio);
      audio.close();
    };
    await this.context.resume();
  }

  send(chunk) {
    if (this.stopped) return;
    const opus = new Uint8Array(chunk.byteLength);
    chunk.copyTo(opus);
    const { seq, timestamp } = this.clock;
    this.clock.seq = nextSeq(seq);
    this.clock.timestamp = (timestamp + FRAME_SAMPLES) % 2 ** 32;
    this.clock.at = performance.now();
    if (opus.length < 1 || opus.length > MAX_OPUS_BYTES) return; // never at 24 kb/s; the server would refuse it
    this.onPacket(encodeSpeakerPacket(seq, timestamp, opus));
  }

  /** Stops sending and releases the microphone. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    this.onLevel(0);
    this.release();
  }

  release() {
    try {
      this.node?.port.postMessage({ type: 'stop' });
      if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
    } catch {
      // already closed
    }
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.source?.disconnect();
    this.node?.disconnect();
    this.context?.close().catch(() => {});
  }
}
