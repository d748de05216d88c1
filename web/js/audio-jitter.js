// JitterBuffer — one speaker's Opus frames between the network and the loudspeaker, pure (time is passed in).
//
// Packets arrive unevenly, some out of order, some late, some never; the playback takes exactly one 20 ms frame
// each time its output needs one (`pull`). The buffer holds frames by sequence number (uint16, wrapping) and
// starts playing a burst of speech once its first frame has waited the TARGET DELAY; the target follows the
// jitter it measures: the spread of the packets' transit times (arrival time minus send timestamp) over the last
// ~3 s, its 98th percentile above the fastest, plus one frame — clamped to 60..300 ms. A missing frame whose
// successors are here is LOST (the caller conceals it: silence or the decoder's loss concealment); a frame
// arriving after its turn is LATE and dropped, but still counts for the jitter (so the target grows); with
// nothing buffered the playback conceals a few frames, then stops and buffers again (the speaker paused). Too
// much buffered (a burst after a stall) drops a frame now and then until the delay is back near the target.
//
// Invariants: frames come out in sequence order, each at most once; a pause in speech (a gap in arrival times
// that the timestamps do not show) starts a new segment, so it is never mistaken for jitter; a sequence jump of
// more than MAX_SEQ_GAP (another speaker's stream in this slot, a restarted sender) starts afresh.

import { FRAME_MS, SAMPLE_RATE, nextSeq, seqDelta } from './audio-packet.js';

export const MIN_DELAY_MS = 60;
export const MAX_DELAY_MS = 300;
const WINDOW = 150; // packets of transit history (3 s of speech)
const PERCENTILE = 0.98;
const MAX_SEQ_GAP = 100; // frames (2 s): further than this is a new stream, not loss
const SEGMENT_BREAK_MS = 1000; // a transit change this large is a pause in speech, not network jitter
const CONCEAL_FRAMES = 3; // frames concealed on an empty buffer before buffering again
const ADJUST_EVERY = 4; // at most one frame stretched or skipped per this many pulls (a gentle drift, no stutter)
const MAX_FRAMES = 32; // 640 ms: the oldest frames go beyond this

export class JitterBuffer {
  constructor({ frameMs = FRAME_MS, minDelayMs = MIN_DELAY_MS, maxDelayMs = MAX_DELAY_MS, sampleRate = SAMPLE_RATE } = {}) {
    Object.assign(this, { frameMs, minDelayMs, maxDelayMs, samplesPerMs: sampleRate / 1000 });
    this.frames = new Map(); // seq -> {seq, timestamp, payload, arrival}
    this.playing = false;
    this.next = 0; // the seq to play next (while playing)
    this.missing = 0; // consecutive pulls that found the buffer empty
    this.sinceAdjust = 0;
    this.history = []; // [{segment, transit}] newest last
    this.segment = 0;
    this.last = null; // {seq, tsExt, transit} of the newest packet pushed
    this.targetDelayMs = minDelayMs;
    this.stats = { received: 0, played: 0, lost: 0, concealed: 0, stretched: 0, late: 0, duplicate: 0, dropped: 0, underruns: 0, resets: 0 };
  }

  /** Takes one packet {seq, timestamp, payload} that arrived at `arrivalMs`; says what became of it. */
  push(packet, arrivalMs) {
    this.stats.received += 1;
    const { seq } = packet;
    if (this.last && Math.abs(seqDelta(seq, this.last.seq)) > MAX_SEQ_GAP) this.reset();
    const { tsExt, transit } = this.measure(packet, arrivalMs);
    if (this.playing && seqDelta(seq, this.next) < 0) {
      this.stats.late += 1;
      return 'late';
    }
    if (this.frames.has(seq)) {
      this.stats.duplicate += 1;
      return 'duplicate';
    }
    this.frames.set(seq, { ...packet, arrival: arrivalMs, tsExt, transit, segment: this.segment });
    while (this.frames.size > MAX_FRAMES) {
      const oldest = this.oldestSeq();
      this.frames.delete(oldest);
      this.stats.dropped += 1;
      if (this.playing && oldest === this.next) this.next = nextSeq(oldest);
    }
    return 'accepted';
  }

  /**
   * The next 20 ms of this source at `nowMs`: {kind: 'frame', seq, timestamp, payload} to decode and play,
   * {kind: 'lost', seq} to conceal, or {kind: 'wait'} (nothing to play: buffering, or the speaker is silent).
   */
  pull(nowMs) {
    if (!this.playing) {
      if (!this.frames.size) return { kind: 'wait' };
      const first = this.frames.get(this.oldestSeq());
      if (this.delayOf(first, nowMs) < this.targetDelayMs && this.spanMs() < this.targetDelayMs + this.frameMs) return { kind: 'wait' };
      this.playing = true;
      this.next = first.seq;
      this.missing = 0;
      this.sinceAdjust = 0;
    }
    this.sinceAdjust += 1;
    let frame = this.frames.get(this.next);
    if (frame && this.sinceAdjust >= ADJUST_EVERY) {
      const delay = this.delayOf(frame, nowMs);
      if (delay < this.targetDelayMs - this.frameMs) {
        // Playing closer to the speaker than the jitter allows: stretch by one concealed frame.
        this.sinceAdjust = 0;
        this.stats.stretched += 1;
        return { kind: 'stretch' };
      }
      const successor = this.frames.get(nextSeq(this.next));
      if (delay > this.targetDelayMs + 2 * this.frameMs && successor) {
        // Further behind the speaker than needed (a burst after a stall, a calmer link): skip one frame.
        this.sinceAdjust = 0;
        this.frames.delete(this.next);
        this.stats.dropped += 1;
        this.next = successor.seq;
        frame = successor;
      }
    }
    const seq = this.next;
    if (frame) {
      this.frames.delete(seq);
      this.next = nextSeq(seq);
      this.missing = 0;
      this.stats.played += 1;
      return { kind: 'frame', seq, timestamp: frame.timestamp, payload: frame.payload };
    }
    if (this.frames.size) {
      this.next = nextSeq(seq); // its successors are here: this one is lost
      this.stats.lost += 1;
      return { kind: 'lost', seq };
    }
    this.missing += 1;
    if (this.missing <= CONCEAL_FRAMES) {
      this.next = nextSeq(seq); // maybe only late: conceal it, and drop it if it comes
      this.stats.concealed += 1;
      return { kind: 'lost', seq };
    }
    this.playing = false; // the speaker stopped (or the link stalled): buffer again before playing
    this.stats.underruns += 1;
    return { kind: 'wait' };
  }

  /** How long after its earliest possible arrival (the fastest transit of its segment) `frame` would play at `nowMs`. */
  delayOf(frame, nowMs) {
    let fastest = Infinity;
    for (const { segment, transit } of this.history) if (segment === frame.segment) fastest = Math.min(fastest, transit);
    if (fastest === Infinity) fastest = frame.transit;
    return nowMs - (frame.tsExt / this.samplesPerMs + fastest);
  }

  /** Milliseconds of audio buffered ahead of the playback (from the next frame due to the newest held). */
  spanMs() {
    if (!this.frames.size) return 0;
    const from = this.playing ? this.next : this.oldestSeq();
    let newest = 0;
    for (const seq of this.frames.keys()) newest = Math.max(newest, seqDelta(seq, from));
    return (newest + 1) * this.frameMs;
  }

  /** The measured jitter: how much later than the fastest packet the 98th percentile arrives, in ms. */
  jitterMs() {
    const bySegment = new Map();
    for (const { segment, transit } of this.history) {
      bySegment.set(segment, Math.min(bySegment.get(segment) ?? Infinity, transit));
    }
    const above = this.history.map(({ segment, transit }) => transit - bySegment.get(segment)).sort((a, b) => a - b);
    if (!above.length) return 0;
    return above[Math.min(above.length - 1, Math.floor(PERCENTILE * above.length))];
  }

  /** Forgets the stream (another speaker in this slot, or a restarted sender); the jitter measured is kept. */
  reset() {
    this.frames.clear();
    this.playing = false;
    this.missing = 0;
    this.last = null;
    this.segment += 1;
    this.stats.resets += 1;
  }

  // --- internals ------------------------------------------------------------------------------------------------

  measure({ seq, timestamp }, arrivalMs) {
    let tsExt = timestamp;
    if (this.last) {
      let d = (timestamp - (this.last.tsExt % 2 ** 32) + 2 ** 32) % 2 ** 32;
      if (d >= 2 ** 31) d -= 2 ** 32;
      tsExt = this.last.tsExt + d;
    }
    const transit = arrivalMs - tsExt / this.samplesPerMs;
    if (this.last && Math.abs(transit - this.last.transit) > SEGMENT_BREAK_MS) this.segment += 1;
    if (!this.last || seqDelta(seq, this.last.seq) > 0) this.last = { seq, tsExt, transit };
    this.history.push({ segment: this.segment, transit });
    if (this.history.length > WINDOW) this.history.shift();
    const target = this.jitterMs() + this.frameMs;
    this.targetDelayMs = Math.min(this.maxDelayMs, Math.max(this.minDelayMs, Math.round(target)));
    return { tsExt, transit };
  }

  oldestSeq() {
    let oldest = null;
    for (const seq of this.frames.keys()) if (oldest === null || seqDelta(seq, oldest) < 0) oldest = seq;
    return oldest;
  }
}
