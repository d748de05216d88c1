// What the stage audio controls say (web/js/audio-controls.js): the state line and who is speaking.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { speakerLine, stateKey } from '../js/audio-controls.js';
import { initialAudioState } from '../js/stage-audio.js';

const state = (patch) => ({ ...initialAudioState(), ...patch });

test('the state line: not listening, connecting, live, blocked, reconnecting, and why it ended', () => {
  assert.equal(stateKey(state({})), 'audio.state.idle');
  assert.equal(stateKey(state({ listening: true, status: 'connecting' })), 'audio.state.connecting');
  assert.equal(stateKey(state({ listening: true, status: 'live' })), 'audio.state.live');
  assert.equal(stateKey(state({ listening: true, status: 'live', blocked: true })), 'audio.state.blocked', 'blocked wins over live');
  assert.equal(stateKey(state({ listening: true, status: 'reconnecting' })), 'audio.state.reconnecting');
  assert.equal(stateKey(state({ status: 'reconnecting' })), 'audio.state.reconnecting', 'a floor holder not listening sees it too');
  assert.equal(stateKey(state({ status: 'closed', closed: 'banned' })), 'audio.state.banned');
  assert.equal(stateKey(state({ status: 'closed', closed: null })), 'audio.state.ended');
});

test('who is speaking: staff by their duty, residents by name, this page as "you"', () => {
  assert.deepEqual(speakerLine(null), { key: 'audio.speaker.nobody', announce: null, vars: {} });
  assert.equal(speakerLine(null, { micOn: true }).key, 'audio.speaker.you');
  const chair = speakerLine({ handle: null, name: '', role: 'chair' });
  assert.deepEqual(chair, { key: 'audio.speaker.chair', announce: 'audio.announce.chair', vars: {} });
  assert.equal(speakerLine({ handle: null, name: '', role: 'host' }).announce, 'audio.announce.host');
  const rita = speakerLine({ handle: 'h1', name: 'Rita', role: 'floor' });
  assert.deepEqual(rita, { key: 'audio.speaker.named', announce: 'audio.announce.speaking', vars: { name: 'Rita' } });
  assert.equal(speakerLine({ handle: 'h1', name: 'Rita', role: 'floor' }, { me: 'h1' }).key, 'audio.speaker.you');
  assert.equal(speakerLine({ handle: 'h1', name: 'Rita', role: 'floor' }, { me: 'h1' }).announce, null, 'nobody is told they speak');
  assert.equal(speakerLine({ handle: 'h2', name: '', role: 'floor' }).key, 'audio.speaker.floor');
});

test('a change of recording is said, except the indicator going off because the meeting ended', async () => {
  const { recordingNews } = await import('../js/audio-controls.js');
  const live = state({ status: 'live' });
  assert.equal(recordingNews({ ...live, recording: true }, live), true);
  assert.equal(recordingNews(live, { ...live, recording: true }), true, 'the chair switched it off');
  assert.equal(recordingNews(state({ status: 'closed', closed: 'ended' }), { ...live, recording: true }), false);
  assert.equal(recordingNews(live, live), false);
});
