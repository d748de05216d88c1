// The stage audio connection (web/js/stage-audio.js) against a fake WebSocket: the messages of docs/protocol.md
// folded into one state, reconnects with backoff, the final closes, and the microphone cut off by the server.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { StageAudio, asSpeaker, backoffDelay, initialAudioState, reduceAudio } from '../js/stage-audio.js';

class FakeSocket {
  static all = [];
  constructor(url) {
    Object.assign(this, { url, readyState: 0, sent: [], bufferedAmount: 0 });
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
  }
  receive(message) {
    this.onmessage({ data: typeof message === 'string' || message instanceof ArrayBuffer ? message : JSON.stringify(message) });
  }
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  serverCloses(code, reason = '') {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

const location = { protocol: 'https:', host: 'city.example' };
const welcome = (extra = {}) => ({
  type: 'audio_welcome', audio: 1, codec: 'opus', sampleRate: 48000, channels: 1, frameMs: 20, maxPacketBytes: 400,
  maxPacketsPerSecond: 60, canSpeak: false, speaker: null, recording: false, ...extra,
});

let timers;
beforeEach(() => {
  FakeSocket.all = [];
  timers = [];
  globalThis.setTimeout = (fn, ms) => timers.push({ fn, ms }) && timers.length;
  globalThis.clearTimeout = () => {};
});
const realSetTimeout = setTimeout;
const realClearTimeout = clearTimeout;
afterEach(() => {
  globalThis.setTimeout = realSetTimeout;
  globalThis.clearTimeout = realClearTimeout;
});

function connected(extra) {
  const audio = new StageAudio({ eventId: '7', location, WebSocketClass: FakeSocket });
  const changes = [];
  audio.on('change', ({ state }) => changes.push(state));
  audio.connect();
  const socket = FakeSocket.all.at(-1);
  socket.open();
  socket.receive(welcome(extra));
  return { audio, socket, changes };
}

test('the socket is same-origin, wss on an https page, at the meeting audio path', () => {
  const { socket } = connected();
  assert.equal(socket.url, 'wss://city.example/api/events/7/audio');
  assert.equal(socket.binaryType, 'arraybuffer');
});

test('the welcome, speaker, can_speak and recording messages fold into the state; junk is ignored', () => {
  const { audio, socket } = connected({ canSpeak: true, recording: true, speaker: { handle: null, name: '', role: 'chair' } });
  assert.equal(audio.state.status, 'live');
  assert.equal(audio.state.canSpeak, true);
  assert.equal(audio.state.recording, true);
  assert.deepEqual(audio.state.speaker, { handle: null, name: '', role: 'chair' });
  socket.receive({ type: 'speaker', speaker: { handle: 'abc123', name: 'Rita', role: 'floor' } });
  assert.equal(audio.state.speaker.name, 'Rita');
  socket.receive({ type: 'speaker', speaker: null });
  assert.equal(audio.state.speaker, null);
  socket.receive({ type: 'recording', recording: false });
  assert.equal(audio.state.recording, false);
  const before = audio.state;
  socket.receive('not json');
  socket.receive({ type: 'something_new', x: 1 });
  assert.equal(audio.state, before);
});

test('a welcome of another protocol version closes the page for good (it is out of date)', () => {
  assert.deepEqual(reduceAudio(initialAudioState(), welcome({ audio: 2 })).closed, 'version');
});

test('speakers are checked: a name is text, a role one of three', () => {
  assert.equal(asSpeaker(null), null);
  assert.equal(asSpeaker({ name: 3 }), null);
  assert.deepEqual(asSpeaker({ name: 'Ann', handle: 5, role: 'king' }), { handle: null, name: 'Ann', role: 'floor' });
  assert.equal(asSpeaker({ name: 'x'.repeat(500), role: 'host' }).name.length, 80);
});

test('a dropped socket reconnects after growing, jittered delays; the welcome resets them', () => {
  const { audio, socket } = connected();
  socket.serverCloses(1006);
  assert.equal(audio.state.status, 'reconnecting');
  assert.equal(timers.length, 1);
  assert.ok(timers[0].ms >= 800 && timers[0].ms <= 1200, `${timers[0].ms}`);
  timers[0].fn();
  FakeSocket.all.at(-1).serverCloses(1006);
  assert.ok(timers[1].ms >= 1600 && timers[1].ms <= 2400, `${timers[1].ms}`);
  timers[1].fn();
  const third = FakeSocket.all.at(-1);
  third.open();
  third.receive(welcome());
  assert.equal(audio.state.status, 'live');
  third.serverCloses(1001);
  assert.ok(timers[2].ms <= 1200, 'back to the first delay after a welcome');
  assert.equal(backoffDelay(50, () => 1), 36000, 'never more than 30 s (+20 %)');
});

test('the server saying the meeting ended, is gone or this browser is banned or removed ends the audio for good', () => {
  for (const [code, reason, why] of [[4409, 'ended', 'ended'], [4004, 'event_not_found', 'not_found'], [4403, 'banned', 'banned'], [4403, 'removed', 'removed']]) {
    timers = [];
    const { audio, socket } = connected({ canSpeak: true });
    socket.serverCloses(code, reason);
    assert.equal(audio.state.status, 'closed');
    assert.equal(audio.state.closed, why);
    assert.equal(audio.state.canSpeak, false);
    assert.equal(timers.length, 0, 'no reconnect');
    audio.connect();
    assert.equal(FakeSocket.all.at(-1), socket, 'connect() after a final close does nothing');
  }
});

test('losing the right to speak with the microphone on cuts it off, says so and tells the server', () => {
  const { audio, socket } = connected({ canSpeak: true });
  // The capture itself needs a browser; here the microphone is "on" as far as the connection knows.
  const stopped = [];
  audio.capture = { stop: () => stopped.push(true) };
  audio.state = { ...audio.state, micOn: true };
  const cutoffs = [];
  audio.on('cutoff', (detail) => cutoffs.push(detail.reason));
  socket.receive({ type: 'can_speak', canSpeak: false, reason: 'floor_taken' });
  assert.deepEqual(cutoffs, ['floor_taken']);
  assert.equal(stopped.length, 1);
  assert.equal(audio.state.micOn, false);
  assert.deepEqual(JSON.parse(socket.sent.at(-1)), { type: 'mic', on: false });
});

test('the microphone is refused without the right to speak; packets are sent only while allowed and the socket keeps up', async () => {
  const { audio, socket } = connected({ canSpeak: false });
  assert.equal(await audio.setMic(true), false);
  assert.equal(audio.state.micError, 'not_allowed');
  assert.equal(socket.sent.length, 0);
  audio.sendPacket(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 9]));
  assert.equal(socket.sent.length, 0, 'nothing sent without the floor');
  socket.receive({ type: 'can_speak', canSpeak: true, reason: 'floor_granted' });
  audio.sendPacket(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 9]));
  assert.equal(socket.sent.length, 1);
  socket.bufferedAmount = 1 << 20;
  audio.sendPacket(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 9]));
  assert.equal(socket.sent.length, 1, 'a stalled uplink drops audio instead of queueing it');
});

test('audio packets are ignored until the page listens', () => {
  const { audio, socket } = connected();
  const received = [];
  audio.playback = { receive: (packet) => received.push(packet) };
  socket.receive(new Uint8Array([1, 1, 0, 5, 0, 0, 0, 0, 42]).buffer);
  assert.equal(received.length, 0);
  audio.state = { ...audio.state, listening: true };
  socket.receive(new Uint8Array([1, 1, 0, 5, 0, 0, 0, 0, 42]).buffer);
  socket.receive(new Uint8Array([9, 9]).buffer); // malformed: dropped
  assert.equal(received.length, 1);
  assert.equal(received[0].slot, 1);
  assert.equal(received[0].seq, 5);
});

test('the recording indicator goes off when the socket closes for good, and only then', () => {
  const { audio, socket } = connected({ recording: true });
  socket.serverCloses(1006);
  assert.equal(audio.state.recording, true, 'a dropped socket keeps it until the welcome says again');
  timers[0].fn();
  const again = FakeSocket.all.at(-1);
  again.open();
  again.receive(welcome({ recording: true }));
  again.serverCloses(4409, 'ended');
  assert.equal(audio.state.recording, false);
});

test('the meeting as its live stream says: the recording flag, and its end closes the audio for good', () => {
  const audio = new StageAudio({ eventId: '7', location, WebSocketClass: FakeSocket });
  audio.followMeeting({ state: 'live', recording: true });
  assert.equal(audio.state.recording, true, 'shown without the socket (a page that never listened)');
  audio.followMeeting({ state: 'live', recording: false });
  assert.equal(audio.state.recording, false);
  audio.connect();
  const socket = FakeSocket.all.at(-1);
  socket.open();
  socket.receive(welcome({ recording: true, canSpeak: true }));
  const closed = [];
  socket.close = () => closed.push(true);
  const playbackClosed = [];
  audio.playback = { close: () => playbackClosed.push(true) };
  audio.state = { ...audio.state, listening: true };
  audio.followMeeting({ state: 'ended', recording: true }); // the flag may lag the end: the end wins
  assert.deepEqual({ status: audio.state.status, closed: audio.state.closed, recording: audio.state.recording }, { status: 'closed', closed: 'ended', recording: false });
  assert.equal(audio.state.listening, false, 'nothing more to hear: the page offers no "Stop listening"');
  assert.equal(audio.state.canSpeak, false);
  assert.deepEqual([closed.length, playbackClosed.length], [1, 1]);
  audio.followMeeting({ state: 'archived', recording: true });
  assert.equal(audio.state.recording, false);
  audio.connect();
  assert.equal(FakeSocket.all.at(-1), socket, 'no reconnect after the end');
  assert.equal(timers.length, 0);
});

test('an ended meeting is not listened to again', async () => {
  const audio = new StageAudio({ eventId: '7', location, WebSocketClass: FakeSocket });
  audio.followMeeting({ state: 'ended', recording: false });
  assert.equal(await audio.listen(), false);
  assert.equal(audio.state.listening, false);
  assert.equal(FakeSocket.all.length, 0, 'no socket for a meeting that ended');
});
