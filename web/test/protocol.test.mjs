// web/js/protocol.js against the shared fixture generated from the server (tests/fixtures/protocol-vectors.json):
// same constants, same bytes written, same values read. pytest checks the fixture is current on the server side.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as protocol from '../js/protocol.js';

const VECTORS = JSON.parse(readFileSync(new URL('../../tests/fixtures/protocol-vectors.json', import.meta.url), 'utf8'));
const { constants } = VECTORS;

const fromHex = (hex) => Uint8Array.from(hex.match(/../g) || [], (byte) => parseInt(byte, 16));
const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

test('binary layout constants equal the server ones', () => {
  for (const [name, value] of Object.entries(constants.binary)) assert.equal(protocol[name], value, name);
});

test('message types, leave reasons and error codes equal the server lists', () => {
  for (const [name, list] of Object.entries(constants.messages)) assert.deepEqual([...protocol[name]], list, name);
});

test('close codes: the same codes, names and reasons as the server, none missing either way', () => {
  const named = Object.fromEntries(
    Object.entries(protocol).filter(([name, value]) => name.startsWith('CLOSE_') && typeof value === 'number'),
  );
  assert.deepEqual(named, constants.close_names);
  assert.deepEqual({ ...protocol.CLOSE_REASONS }, constants.close_codes);
});

test('every limit equals the server limit of the same name', () => {
  for (const [name, value] of Object.entries(constants.limits)) assert.equal(protocol[name], value, name);
  assert.equal(protocol.NAME_DEFAULT, constants.NAME_DEFAULT);
});

test('the name rule accepts and trims exactly the names the server accepts', () => {
  for (const { raw, valid } of VECTORS.names) assert.equal(protocol.validName(raw), valid, JSON.stringify(raw));
});

test('poses are written byte for byte as the server reads them', () => {
  for (const { fields, hex } of VECTORS.poses) {
    const bytes = protocol.encodePose(fields);
    assert.equal(bytes.length, protocol.POSE_SIZE);
    assert.equal(toHex(bytes), hex);
  }
});

test('frames decode to the avatars the server encoded, from an ArrayBuffer or a view', () => {
  for (const { tick, avatars, hex } of VECTORS.frames) {
    const bytes = fromHex(hex);
    assert.deepEqual(protocol.decodeFrame(bytes.buffer), { tick, avatars });
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    assert.deepEqual(protocol.decodeFrame(padded.subarray(3)), { tick, avatars });
  }
});

test('anything but a well-formed frame decodes to null, never an exception', () => {
  for (const { why, hex } of VECTORS.bad_frames) assert.equal(protocol.decodeFrame(fromHex(hex).buffer), null, why);
  for (const junk of [null, undefined, 'text', 42, {}]) assert.equal(protocol.decodeFrame(junk), null);
});

test('the quantiser gives the same integers and POSE bytes as the server quantiser', () => {
  for (const { bounds, pose, quantised, hex } of VECTORS.quantizer) {
    const q = new protocol.Quantizer(bounds);
    assert.deepEqual([q.quantize(pose.x, 0), q.quantize(pose.y, 1), q.quantize(pose.z, 2)], [quantised.x, quantised.y, quantised.z]);
    assert.equal(protocol.Quantizer.yaw(pose.yaw), quantised.yaw);
    assert.equal(protocol.Quantizer.pitch(pose.pitch), quantised.pitch);
    assert.equal(toHex(q.encodePose(pose)), hex);
  }
});

test('the quantiser keeps positions within a centimetre and angles within a step', () => {
  const bounds = { min: [-30, -2, -25], max: [30, 12, 28] };
  const q = new protocol.Quantizer(bounds);
  for (let i = 0; i < 500; i++) {
    for (let axis = 0; axis < 3; axis++) {
      const value = bounds.min[axis] + ((i * 7919 + axis * 104729) % 1000) / 1000 * (bounds.max[axis] - bounds.min[axis]);
      assert.ok(Math.abs(q.metres(q.quantize(value, axis), axis) - value) < 0.01);
    }
    const yaw = -Math.PI + (i / 500) * 2 * Math.PI + 0.001;
    const back = protocol.Quantizer.yawRadians(protocol.Quantizer.yaw(yaw));
    assert.ok(Math.abs(back - yaw) < (2 * Math.PI) / 65536 || Math.abs(Math.abs(back - yaw) - 2 * Math.PI) < 1e-3);
  }
  assert.equal(q.quantize(-1000, 0), 0);
  assert.equal(q.quantize(1000, 0), protocol.QUANT_MAX);
  assert.equal(protocol.Quantizer.pitch(10), 255);
  assert.equal(protocol.Quantizer.pitch(-10), 0);
});
