// Stage audio worklet processors (AudioWorkletGlobalScope; loaded by audio-playback.js and audio-capture.js).
//
// 'stage-playback': one queue of 48 kHz PCM per speaker slot, summed into the output at the context's rate
//   (resampled linearly when the context is not at 48 kHz). Every ~20 ms it tells the main thread how many
//   samples each slot has queued ({type: 'level', queued: [n0, n1]}), and the main thread pulls frames from
//   the jitter buffers to keep about two frames queued: the audio clock, not a timer, paces the playback.
// 'stage-capture': the microphone, resampled to 48 kHz mono, cut into 960-sample (20 ms) frames posted to the
//   main thread with their RMS level (for a meter) — the encoder there turns them into Opus.
//
// Invariants: the audio thread never allocates per quantum beyond the frames it posts; a queue is bounded
// (half a second): older PCM is dropped first; silence (zeros) when a queue is empty.

const RATE = 48000;
const FRAME = 960;
const MAX_QUEUED = RATE / 2;
const REPORT_EVERY = 1024; // output samples between two level reports (about 21 ms at 48 kHz)

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queues = [[], []]; // per slot: Float32Array chunks at 48 kHz
    this.offsets = [0, 0]; // read position in each queue's first chunk (fractional when resampling)
    this.queued = [0, 0];
    this.step = RATE / sampleRate; // input samples per output sample
    this.sinceReport = 0;
    this.port.onmessage = ({ data }) => {
      if (data.type === 'pcm') this.enqueue(data.slot, data.samples);
      else if (data.type === 'clear') this.clear(data.slot);
    };
  }

  enqueue(slot, samples) {
    if (slot !== 0 && slot !== 1) return;
    this.queues[slot].push(samples);
    this.queued[slot] += samples.length;
    while (this.queued[slot] > MAX_QUEUED) {
      this.queued[slot] -= this.queues[slot].shift().length;
      this.offsets[slot] = 0;
    }
  }

  clear(slot) {
    this.queues[slot] = [];
    this.queued[slot] = 0;
    this.offsets[slot] = 0;
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!out) return true;
    out.fill(0);
    for (let slot = 0; slot < 2; slot += 1) {
      const queue = this.queues[slot];
      let offset = this.offsets[slot];
      for (let i = 0; i < out.length && queue.length; i += 1) {
        const chunk = queue[0];
        const index = Math.floor(offset);
        const frac = offset - index;
        const a = chunk[index];
        const b = index + 1 < chunk.length ? chunk[index + 1] : queue[1]?.[0] ?? a;
        out[i] += a + (b - a) * frac;
        offset += this.step;
        while (queue.length && offset >= queue[0].length) {
          offset -= queue[0].length;
          this.queued[slot] -= queue[0].length;
          queue.shift();
        }
      }
      this.offsets[slot] = queue.length ? offset : 0;
    }
    for (let c = 1; c < outputs[0].length; c += 1) outputs[0][c].set(out);
    this.sinceReport += out.length;
    if (this.sinceReport >= REPORT_EVERY) {
      this.sinceReport = 0;
      this.port.postMessage({ type: 'level', queued: [this.queued[0] - Math.floor(this.offsets[0]), this.queued[1] - Math.floor(this.offsets[1])] });
    }
    return true;
  }
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / RATE; // input samples per 48 kHz sample
    this.position = 0; // fractional read position into `carry` + the current input
    this.last = 0; // the previous input sample (for interpolation across quanta)
    this.frame = new Float32Array(FRAME);
    this.filled = 0;
    this.on = true;
    this.port.onmessage = ({ data }) => {
      if (data.type === 'stop') this.on = false;
    };
  }

  process(inputs) {
    if (!this.on) return false;
    const input = inputs[0]?.[0];
    if (!input) return true;
    // Linear resampling to 48 kHz: `position` runs over [-1, input.length), -1 being the previous quantum's last sample.
    while (this.position < input.length - 1) {
      const index = Math.floor(this.position);
      const frac = this.position - index;
      const a = index < 0 ? this.last : input[index];
      const b = input[index + 1];
      this.frame[this.filled] = a + (b - a) * frac;
      this.filled += 1;
      if (this.filled === FRAME) this.flush();
      this.position += this.step;
    }
    this.position -= input.length;
    this.last = input[input.length - 1];
    return true;
  }

  flush() {
    let sum = 0;
    for (let i = 0; i < FRAME; i += 1) sum += this.frame[i] * this.frame[i];
    const samples = this.frame;
    this.port.postMessage({ type: 'frame', samples, level: Math.sqrt(sum / FRAME) }, [samples.buffer]);
    this.frame = new Float32Array(FRAME);
    this.filled = 0;
  }
}

registerProcessor('stage-playback', PlaybackProcessor);
registerProcessor('stage-capture', CaptureProcessor);
