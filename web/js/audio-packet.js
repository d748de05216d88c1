// Audio packets — the binary frames of a meeting's stage audio (docs/protocol.md, "audio": 1), pure.
//
//   speaker → server:   [u8 kind=1][u16 seq BE][u32 timestamp BE][opus packet, 1..400 bytes]
//   server → listener:  [u8 kind=1][u8 speakerSlot][u16 seq BE][u32 timestamp BE][opus packet]
//
// `seq` counts 20 ms frames and wraps at 2^16; `timestamp` counts 48 kHz samples and wraps at 2^32. The server
// relays the Opus bytes as they are and only inserts the slot (0: the chair or a host, 1: the floor holder), so a
// listener keeps one jitter buffer per source.
// Invariants: decoding never throws (a malformed frame is null); encoding refuses what the server would refuse
// (an empty or oversized Opus packet, a seq or timestamp out of range), so a bug shows here, not as a closed socket.

export const AUDIO_VERSION = 1;
export const KIND_OPUS = 1;
export const SAMPLE_RATE = 48000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000; // 960
export const MAX_OPUS_BYTES = 400;
export const SPEAKER_HEADER_BYTES = 7;
export const LISTENER_HEADER_BYTES = 8;
export const SLOT_CHAIR = 0;
export const SLOT_FLOOR = 1;

const SEQ_MOD = 0x10000;

function checkOpus(opus) {
  if (!(opus instanceof Uint8Array) || opus.length < 1 || opus.length > MAX_OPUS_BYTES) {
    throw new RangeError(`an Opus packet is 1..${MAX_OPUS_BYTES} bytes`);
  }
}

function checkHeader(seq, timestamp) {
  if (!Number.isInteger(seq) || seq < 0 || seq >= SEQ_MOD) throw new RangeError('seq is a uint16');
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > 0xffffffff) throw new RangeError('timestamp is a uint32');
}

/** The frame a speaker sends for one Opus packet. */
export function encodeSpeakerPacket(seq, timestamp, opus) {
  checkHeader(seq, timestamp);
  checkOpus(opus);
  const bytes = new Uint8Array(SPEAKER_HEADER_BYTES + opus.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, KIND_OPUS);
  view.setUint16(1, seq);
  view.setUint32(3, timestamp);
  bytes.set(opus, SPEAKER_HEADER_BYTES);
  return bytes;
}

/** A speaker's frame read back ({seq, timestamp, payload}), or null when it is not one. */
export function decodeSpeakerPacket(data) {
  const bytes = asBytes(data);
  if (!bytes || bytes.length < SPEAKER_HEADER_BYTES + 1 || bytes.length > SPEAKER_HEADER_BYTES + MAX_OPUS_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== KIND_OPUS) return null;
  return { seq: view.getUint16(1), timestamp: view.getUint32(3), payload: bytes.subarray(SPEAKER_HEADER_BYTES) };
}

/** The frame the server sends listeners (written here for tests and the fake server of the node tests). */
export function encodeListenerPacket(slot, seq, timestamp, opus) {
  checkHeader(seq, timestamp);
  checkOpus(opus);
  if (!Number.isInteger(slot) || slot < 0 || slot > 255) throw new RangeError('slot is a uint8');
  const bytes = new Uint8Array(LISTENER_HEADER_BYTES + opus.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, KIND_OPUS);
  view.setUint8(1, slot);
  view.setUint16(2, seq);
  view.setUint32(4, timestamp);
  bytes.set(opus, LISTENER_HEADER_BYTES);
  return bytes;
}

/** A listener's frame read ({slot, seq, timestamp, payload}), or null when it is malformed or of an unknown kind. */
export function decodeListenerPacket(data) {
  const bytes = asBytes(data);
  if (!bytes || bytes.length < LISTENER_HEADER_BYTES + 1 || bytes.length > LISTENER_HEADER_BYTES + MAX_OPUS_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== KIND_OPUS) return null;
  return {
    slot: view.getUint8(1),
    seq: view.getUint16(2),
    timestamp: view.getUint32(4),
    payload: bytes.subarray(LISTENER_HEADER_BYTES),
  };
}

/** `a - b` on the uint16 circle, in -32768..32767: positive when `a` comes after `b`. */
export function seqDelta(a, b) {
  const d = (((a - b) % SEQ_MOD) + SEQ_MOD) % SEQ_MOD;
  return d >= SEQ_MOD / 2 ? d - SEQ_MOD : d;
}

/** The seq after `seq` (wrapping). */
export function nextSeq(seq, step = 1) {
  return (((seq + step) % SEQ_MOD) + SEQ_MOD) % SEQ_MOD;
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
