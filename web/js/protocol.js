// Protocol — the realtime wire protocol on the browser's side (docs/protocol.md, version 1): its constants
// (version, message types, close codes, error codes, limits, the name rule) and its binary codec (POSE out,
// FRAME in, the quantiser over a room's bounds).
//
// The server's side is server/protocol.py and server/codec.py. Both are checked against one fixture,
// tests/fixtures/protocol-vectors.json, generated from the server (`python -m tests.fixtures.make_protocol_vectors`):
// pytest checks the file is current, `node --test` (web/test/protocol.test.mjs) checks that this module has the
// same constants and writes and reads the same bytes. Change a constant on both sides and regenerate.
// Invariants: pure (no DOM, no three.js, no globals), so it runs in Node; a POSE is exactly POSE_SIZE bytes,
// little-endian, quantised over `welcome.bounds`; decodeFrame never throws: anything but a well-formed FRAME
// gives null.

export const PROTOCOL_VERSION = 1;

// --- binary messages -----------------------------------------------------------------------------
export const POSE = 1;
export const FRAME = 2;
export const POSE_SIZE = 10; // u8 kind, u16 x y z, u16 yaw, u8 pitch
export const FRAME_HEADER_SIZE = 5; // u8 kind, u16 tick, u16 count
export const AVATAR_SIZE = 11; // u16 id, u16 x y z, u16 yaw, u8 pitch
export const QUANT_MAX = 65535;

// --- JSON messages -------------------------------------------------------------------------------
export const CLIENT_MESSAGES = Object.freeze(['hello', 'chat', 'rename']);
/** Sent on their own, never inside a batch. */
export const SERVER_MESSAGES = Object.freeze(['welcome', 'roster', 'resync', 'batch', 'error']);
/** Room events the room produces (inside `batch`). */
export const PRESENCE_EVENTS = Object.freeze(['join', 'leave', 'rename', 'chat']);
/** Content events of this version (inside `batch`); Presence hands any type it does not own to subscribers. */
export const CONTENT_EVENTS = Object.freeze(['hotspot', 'proposal', 'proposal_supports', 'places']);
export const LEAVE_REASONS = Object.freeze(['left', 'timeout', 'node_lost']);
export const ERROR_CODES = Object.freeze([
  'protocol_version',
  'bad_message',
  'room_full',
  'scene_not_found',
  'scene_preparing',
  'rate_limited',
  'too_slow',
  'chat_rate_limited',
  'server_shutdown',
  'too_many_connections',
]);

// --- close codes ---------------------------------------------------------------------------------
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_INTERNAL_ERROR = 1011;
export const CLOSE_PROTOCOL = 4000;
export const CLOSE_BAD_MESSAGE = 4001;
export const CLOSE_ROOM_FULL = 4003;
export const CLOSE_SCENE_NOT_FOUND = 4004;
export const CLOSE_SCENE_PREPARING = 4013;
export const CLOSE_RATE_LIMITED = 4008;
export const CLOSE_TOO_SLOW = 4009;
export const CLOSE_TOO_MANY_CONNECTIONS = 4029;
/** code -> the close frame's reason text. */
export const CLOSE_REASONS = Object.freeze({
  [CLOSE_NORMAL]: 'left',
  [CLOSE_GOING_AWAY]: 'server_shutdown',
  [CLOSE_TOO_BIG]: 'too_big',
  [CLOSE_INTERNAL_ERROR]: 'internal_error',
  [CLOSE_PROTOCOL]: 'protocol_version',
  [CLOSE_BAD_MESSAGE]: 'bad_message',
  [CLOSE_ROOM_FULL]: 'room_full',
  [CLOSE_SCENE_NOT_FOUND]: 'scene_not_found',
  [CLOSE_SCENE_PREPARING]: 'scene_preparing',
  [CLOSE_RATE_LIMITED]: 'rate_limited',
  [CLOSE_TOO_SLOW]: 'too_slow',
  [CLOSE_TOO_MANY_CONNECTIONS]: 'too_many_connections',
});

// --- limits --------------------------------------------------------------------------------------
export const MAX_MESSAGE_BYTES = 4096;
export const MAX_CHAT_LENGTH = 500;
export const NAME_MAX_LENGTH = 32;
export const NAME_DEFAULT = 'Guest';
/** The server's name rule (full match of the trimmed name): letters, digits, spaces and .,'-_() only. */
export const NAME_PATTERN = /^[\p{L}\p{N}_ .,'()-]{1,32}$/u;
export const INSTANCE_MIN = 1;
export const INSTANCE_MAX = 64;
export const TICK_HZ_MIN = 1;
export const TICK_HZ_MAX = 60;
export const MAX_AVATARS_PER_FRAME = 48;
export const POSE_RATE_PER_TICK = 2;
export const POSE_BURST_TICKS = 4;
export const CONTROL_RATE = 10;
export const CONTROL_BURST = 20;
export const CHAT_RATE = 0.5;
export const CHAT_BURST = 5;
export const HELLO_TIMEOUT_S = 10;
export const PING_INTERVAL_S = 10;
export const PONG_TIMEOUT_S = 5;
export const MAX_JOINS_PER_ADDRESS = 20;
export const PREPARING_RETRY_SECONDS = 5;

const TAU = 2 * Math.PI;

/** The trimmed name when it follows the name rule, else null. */
export function validName(raw) {
  const name = String(raw ?? '').trim();
  return NAME_PATTERN.test(name) ? name : null;
}

/** Metres and radians <-> the protocol's integers over a room's bounds ({min: [x,y,z], max: [x,y,z]}). */
export class Quantizer {
  constructor(bounds) {
    this.min = bounds.min.map(Number);
    this.span = bounds.max.map((high, i) => Math.max(Number(high) - this.min[i], 1e-6));
  }

  quantize(value, axis) {
    const q = Math.round(((value - this.min[axis]) / this.span[axis]) * QUANT_MAX);
    return Math.min(QUANT_MAX, Math.max(0, q));
  }

  metres(q, axis) {
    return this.min[axis] + (q / QUANT_MAX) * this.span[axis];
  }

  static yaw(radians) {
    return ((Math.round((radians / TAU) * 65536) % 65536) + 65536) % 65536;
  }

  static pitch(radians) {
    return Math.min(255, Math.max(0, Math.round(((radians + Math.PI / 2) / Math.PI) * 255)));
  }

  /** Yaw in (-π, π] from its u16. */
  static yawRadians(q) {
    const yaw = (q / 65536) * TAU;
    return yaw > Math.PI ? yaw - TAU : yaw;
  }

  static pitchRadians(q) {
    return (q / 255) * Math.PI - Math.PI / 2;
  }

  /** A POSE for feet position (metres) and yaw/pitch (radians). */
  encodePose({ x, y, z, yaw, pitch = 0 }) {
    return encodePose({
      x: this.quantize(x, 0),
      y: this.quantize(y, 1),
      z: this.quantize(z, 2),
      yaw: Quantizer.yaw(yaw),
      pitch: Quantizer.pitch(pitch),
    });
  }
}

/** A POSE (Uint8Array of POSE_SIZE bytes) from quantised integers {x, y, z, yaw, pitch}. */
export function encodePose({ x, y, z, yaw, pitch }) {
  const bytes = new Uint8Array(POSE_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, POSE);
  view.setUint16(1, x, true);
  view.setUint16(3, y, true);
  view.setUint16(5, z, true);
  view.setUint16(7, yaw, true);
  view.setUint8(9, pitch);
  return bytes;
}

/**
 * {tick, avatars: [{id, x, y, z, yaw, pitch}]} (still quantised) from a FRAME (ArrayBuffer or a typed
 * array), or null if it is not one.
 */
export function decodeFrame(data) {
  let view;
  if (ArrayBuffer.isView(data)) view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  else if (data instanceof ArrayBuffer) view = new DataView(data);
  else return null;
  if (view.byteLength < FRAME_HEADER_SIZE || view.getUint8(0) !== FRAME) return null;
  const tick = view.getUint16(1, true);
  const count = view.getUint16(3, true);
  if (view.byteLength !== FRAME_HEADER_SIZE + count * AVATAR_SIZE) return null;
  const avatars = new Array(count);
  for (let i = 0, at = FRAME_HEADER_SIZE; i < count; i++, at += AVATAR_SIZE) {
    avatars[i] = {
      id: view.getUint16(at, true),
      x: view.getUint16(at + 2, true),
      y: view.getUint16(at + 4, true),
      z: view.getUint16(at + 6, true),
      yaw: view.getUint16(at + 8, true),
      pitch: view.getUint8(at + 10),
    };
  }
  return { tick, avatars };
}
