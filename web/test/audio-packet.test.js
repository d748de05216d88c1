// The binary frames of stage audio (web/js/audio-packet.js): the layout of docs/protocol.md, byte for byte.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  LISTENER_HEADER_BYTES,
  MAX_OPUS_BYTES,
  SPEAKER_HEADER_BYTES,
  decodeListenerPacket,
  decodeSpeakerPacket,
  encodeListenerPacket,
  encodeSpeakerPacket,
  nextSeq,
  seqDelta,
} from '../js/audio-packet.js';

const opus = (n, fill = 7) => new Uint8Array(n).fill(fill);

test('a speaker frame is kind 1, seq and timestamp big-endian, then the Opus bytes', () => {
  const bytes = encodeSpeakerPacket(0x1234, 0xdeadbeef, new Uint8Array([9, 8, 7]));
  assert.deepEqual([...bytes], [1, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 9, 8, 7]);
  assert.equal(SPEAKER_HEADER_BYTES, 7);
  const back = decodeSpeakerPacket(bytes.buffer);
  assert.equal(back.seq, 0x1234);
  assert.equal(back.timestamp, 0xdeadbeef);
  assert.deepEqual([...back.payload], [9, 8, 7]);
});

test('a listener frame carries the speaker slot after the kind', () => {
  const bytes = encodeListenerPacket(1, 65535, 960, opus(2, 5));
  assert.deepEqual([...bytes], [1, 1, 0xff, 0xff, 0, 0, 3, 0xc0, 5, 5]);
  assert.equal(LISTENER_HEADER_BYTES, 8);
  assert.deepEqual(decodeListenerPacket(bytes), { slot: 1, seq: 65535, timestamp: 960, payload: bytes.subarray(8) });
  // A view into a larger buffer (as a WebSocket message may be) reads the same.
  const padded = new Uint8Array(bytes.length + 6);
  padded.set(bytes, 3);
  assert.equal(decodeListenerPacket(padded.subarray(3, 3 + bytes.length)).seq, 65535);
});

test('malformed frames decode to null, never throw', () => {
  assert.equal(decodeListenerPacket(new Uint8Array(0)), null);
  assert.equal(decodeListenerPacket(new Uint8Array(LISTENER_HEADER_BYTES)), null, 'no Opus bytes');
  assert.equal(decodeListenerPacket(encodeListenerPacket(0, 1, 1, opus(3)).map((b, i) => (i === 0 ? 2 : b))), null, 'unknown kind');
  assert.equal(decodeListenerPacket(new Uint8Array(LISTENER_HEADER_BYTES + MAX_OPUS_BYTES + 1).fill(1)), null, 'too big');
  assert.equal(decodeListenerPacket('text'), null);
  assert.equal(decodeListenerPacket(null), null);
  assert.equal(decodeSpeakerPacket(new Uint8Array(SPEAKER_HEADER_BYTES)), null);
  assert.ok(decodeListenerPacket(new Uint8Array(LISTENER_HEADER_BYTES + MAX_OPUS_BYTES).fill(1)), 'the largest allowed');
});

test('encoding refuses what the server would refuse', () => {
  assert.throws(() => encodeSpeakerPacket(0, 0, new Uint8Array(0)), RangeError);
  assert.throws(() => encodeSpeakerPacket(0, 0, opus(MAX_OPUS_BYTES + 1)), RangeError);
  assert.throws(() => encodeSpeakerPacket(65536, 0, opus(1)), RangeError);
  assert.throws(() => encodeSpeakerPacket(-1, 0, opus(1)), RangeError);
  assert.throws(() => encodeSpeakerPacket(0, 2 ** 32, opus(1)), RangeError);
  assert.throws(() => encodeListenerPacket(256, 0, 0, opus(1)), RangeError);
  assert.equal(encodeSpeakerPacket(0, 0, opus(MAX_OPUS_BYTES)).length, SPEAKER_HEADER_BYTES + MAX_OPUS_BYTES);
});

test('sequence arithmetic wraps at 2^16', () => {
  assert.equal(seqDelta(5, 3), 2);
  assert.equal(seqDelta(3, 5), -2);
  assert.equal(seqDelta(2, 65534), 4);
  assert.equal(seqDelta(65534, 2), -4);
  assert.equal(nextSeq(65535), 0);
  assert.equal(nextSeq(0, -1), 65535);
});

// The wire vectors the server's tests check too (tests/fixtures/audio-vectors.json): both halves read the same bytes.
const vectors = JSON.parse(readFileSync(new URL('../../tests/fixtures/audio-vectors.json', import.meta.url), 'utf8'));
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const bytes = (text) => new Uint8Array(Buffer.from(text, 'hex'));

test('the shared wire vectors: what a speaker sends and what a listener receives, byte for byte', () => {
  assert.ok(vectors.valid.length >= 3);
  for (const v of vectors.valid) {
    assert.equal(hex(encodeSpeakerPacket(v.seq, v.timestamp, bytes(v.opus))), v.speaker);
    assert.equal(hex(encodeListenerPacket(v.slot, v.seq, v.timestamp, bytes(v.opus))), v.listener);
    const heard = decodeListenerPacket(bytes(v.listener));
    assert.deepEqual([heard.slot, heard.seq, heard.timestamp, hex(heard.payload)], [v.slot, v.seq, v.timestamp, v.opus]);
  }
});

test('the shared invalid vectors are refused here as the server refuses them', () => {
  for (const v of vectors.invalid) assert.equal(decodeSpeakerPacket(bytes(v.speaker)), null, v.why);
});
