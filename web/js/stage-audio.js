// StageAudio — a meeting's stage audio for one page: the WebSocket `GET /api/events/{id}/audio` (docs/protocol.md,
// "audio": 1), its messages folded into one state, the playback (audio-playback.js, made on "Listen") and the
// microphone (audio-capture.js, for whoever may speak). The meeting panel of the scene page, the chair's console
// and the event page all use it; each draws `state` its own way.
//
// state: {status: idle | connecting | live | reconnecting | closed, closed: null | not_found | banned | removed | ended,
//         listening, blocked (the browser holds the audio until a press), canSpeak, speaker, recording,
//         micOn, micError: null | denied | unsupported | not_allowed | failed, welcome}
// Events: 'change' {state, before}; 'cutoff' {reason} when this page's microphone was switched off by the server
// (the floor taken back or run out, the meeting over); 'level' (the microphone's RMS, 0..1, about 50 per second).
//
// Invariants: reconnects after a dropped socket with growing, jittered delays (1 s … 30 s), never after the
// server said the meeting is gone, ended or this browser is banned or removed (4004, 4409, 4403); the microphone is
// released whenever speaking is no longer allowed, the socket closes or the page stops listening; nothing is
// sent when the socket is not open (audio is live or it is nothing: no queue of stale speech). The recording
// indicator follows the meeting: off once the socket closes for good, and pages that follow the meeting's live
// stream feed its `recording` flag and its end through followMeeting (a page that never opened the socket knows too).

import { Emitter } from './emitter.js';
import { AUDIO_VERSION, decodeListenerPacket } from './audio-packet.js';
import { AudioPlayback, playbackSupported } from './audio-playback.js';

const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];
const FINAL_CLOSES = { 4004: 'not_found', 4403: 'banned', 4409: 'ended' };
const MAX_BUFFERED = 16 * 1024; // a socket this far behind drops our audio rather than queueing it

export function initialAudioState() {
  return {
    status: 'idle',
    closed: null,
    listening: false,
    blocked: false,
    canSpeak: false,
    speaker: null,
    recording: false,
    micOn: false,
    micError: null,
    welcome: null,
  };
}

/** A SPEAKER of the protocol, checked ({handle, name, role}), or null. */
export function asSpeaker(value) {
  if (!value || typeof value !== 'object' || typeof value.name !== 'string') return null;
  const role = ['chair', 'host', 'floor'].includes(value.role) ? value.role : 'floor';
  return { handle: typeof value.handle === 'string' ? value.handle : null, name: value.name.slice(0, 80), role };
}

/** The state after one JSON message from the server (pure; unknown types and fields are ignored). */
export function reduceAudio(state, message) {
  const m = message && typeof message === 'object' ? message : {};
  switch (m.type) {
    case 'audio_welcome':
      if (m.audio !== AUDIO_VERSION) return { ...state, status: 'closed', closed: 'version' };
      return {
        ...state,
        status: 'live',
        closed: null,
        welcome: { codec: m.codec, sampleRate: m.sampleRate, frameMs: m.frameMs, maxPacketBytes: m.maxPacketBytes },
        canSpeak: Boolean(m.canSpeak),
        speaker: asSpeaker(m.speaker),
        recording: Boolean(m.recording),
      };
    case 'speaker':
      return { ...state, speaker: asSpeaker(m.speaker) };
    case 'can_speak':
      return { ...state, canSpeak: Boolean(m.canSpeak) };
    case 'recording':
      return { ...state, recording: Boolean(m.recording) };
    default:
      return state;
  }
}

/** The delay before reconnect number `attempt` (0-based), ±20 % so a restarted server is not hit all at once. */
export function backoffDelay(attempt, random = Math.random) {
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  return Math.round(base * (0.8 + 0.4 * random()));
}

export class StageAudio extends Emitter {
  /**
   * @param {{eventId: string, location?: Location, WebSocketClass?: typeof WebSocket,
   *          storage?: Storage | null}} options
   */
  constructor({ eventId, location = globalThis.location, WebSocketClass = globalThis.WebSocket, storage = null }) {
    super();
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = `${scheme}//${location.host}/api/events/${encodeURIComponent(eventId)}/audio`;
    this.WebSocketClass = WebSocketClass;
    this.storage = storage;
    this.state = initialAudioState();
    this.socket = null;
    this.attempt = 0;
    this.timer = 0;
    this.playback = null;
    this.capture = null;
    this.clock = null;
    this.volume = Number(storage?.getItem('civicSpace.audioVolume') ?? 1);
    if (!Number.isFinite(this.volume)) this.volume = 1;
    this.muted = false;
  }

  set(patch) {
    const before = this.state;
    this.state = { ...before, ...patch };
    this.emit('change', { state: this.state, before });
  }

  // --- the socket -----------------------------------------------------------------------------------------------

  connect() {
    if (this.socket || this.state.status === 'closed') return;
    clearTimeout(this.timer);
    this.set({ status: this.attempt ? 'reconnecting' : 'connecting' });
    const socket = (this.socket = new this.WebSocketClass(this.url));
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (message) => this.onMessage(message.data);
    socket.onclose = (event) => this.onClose(socket, event.code, event.reason);
  }

  /** Closes the socket for good (the page is leaving the meeting). */
  disconnect() {
    clearTimeout(this.timer);
    this.stopMic();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.set({ status: 'idle' });
  }

  onMessage(data) {
    if (typeof data !== 'string') {
      if (!this.state.listening || !this.playback) return;
      const packet = decodeListenerPacket(data);
      if (packet) this.playback.receive(packet, performance.now());
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message?.type === 'audio_welcome') this.attempt = 0;
    if (message?.type === 'error') {
      if (message.code === 'not_allowed' && this.state.micOn) this.cutOff('not_allowed');
      this.emit('server-error', { code: String(message.code ?? ''), message: String(message.message ?? '') });
      return;
    }
    const before = this.state;
    const after = reduceAudio(before, message);
    if (after === before) return;
    this.state = after;
    this.emit('change', { state: after, before });
    if (before.canSpeak && !after.canSpeak && this.state.micOn) this.cutOff(message.reason || 'floor_taken');
    // Said to the server again after a reconnect: the microphone is on, it should say "speaking".
    if (message.type === 'audio_welcome' && this.state.micOn && after.canSpeak) this.sendJSON({ type: 'mic', on: true });
    if (message.type === 'audio_welcome' && this.state.micOn && !after.canSpeak) this.cutOff('not_allowed');
  }

  onClose(socket, code, reason = '') {
    if (this.socket !== socket) return; // a socket we closed ourselves
    this.socket = null;
    this.stopMic();
    // 4403 is "banned" or "removed": removed may come back by opening the meeting again, not by reconnecting here.
    const final = code === 4403 && reason === 'removed' ? 'removed' : FINAL_CLOSES[code];
    if (final) {
      this.set({ status: 'closed', closed: final, canSpeak: false, speaker: null, recording: false });
      return;
    }
    this.set({ status: 'reconnecting', canSpeak: false, speaker: null });
    this.timer = setTimeout(() => this.connect(), backoffDelay(this.attempt));
    this.attempt += 1;
  }

  /**
   * The meeting as its live stream says (`event`: its public state: `state`, `recording`). The indicator shows the
   * event's flag; a meeting that ended (or was archived) ends the audio for good, as the server's 4409 would.
   */
  followMeeting(event) {
    if (!event || typeof event !== 'object') return;
    if (event.state === 'ended' || event.state === 'archived') {
      this.endForGood('ended');
      return;
    }
    if (typeof event.recording === 'boolean' && event.recording !== this.state.recording) this.set({ recording: event.recording });
  }

  /** No more audio on this page: socket closed, microphone and playback released, indicator off. */
  endForGood(why) {
    if (this.state.status === 'closed' && !this.state.listening && !this.state.recording) return;
    clearTimeout(this.timer);
    this.stopMic();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    const playback = this.playback;
    this.playback = null;
    playback?.close();
    this.set({ status: 'closed', closed: why, canSpeak: false, speaker: null, recording: false, listening: false, blocked: false });
  }

  sendJSON(message) {
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  // --- listening --------------------------------------------------------------------------------------------------

  /**
   * Starts (or resumes) hearing the stage. Call it from the user's press: the AudioContext is made and resumed in
   * the same task, which is what browsers that block autoplay ask for. Resolves to whether audio plays.
   */
  async listen() {
    if (this.state.status === 'closed') return false; // the meeting's audio ended: nothing to hear
    // Synchronously in the press's task: Safari counts the gesture only until the first await.
    if (!this.playback) {
      if (!playbackSupported()) {
        this.emit('playback-error', {});
        return false;
      }
      this.playback = new AudioPlayback({ volume: this.volume, muted: this.muted });
    }
    const playback = this.playback;
    const resumed = playback.resume();
    this.set({ listening: true });
    this.connect();
    try {
      await playback.ready;
    } catch {
      if (this.playback === playback) this.playback = null;
      playback.close();
      this.set({ listening: false, blocked: false });
      this.emit('playback-error', {});
      return false;
    }
    const running = await resumed;
    if (this.playback !== playback) return false; // the meeting ended (or the page stopped) meanwhile
    this.set({ blocked: !running });
    return running;
  }

  /**
   * Tries to listen without a press (the resident listened last time): the audio stays blocked until a press
   * where the browser wants one, and the page says so. Never throws.
   */
  async listenIfAllowed() {
    try {
      return await this.listen();
    } catch {
      this.set({ blocked: true });
      return false;
    }
  }

  async stopListening() {
    const playback = this.playback;
    this.playback = null;
    this.set({ listening: false, blocked: false });
    await playback?.close();
  }

  setVolume(volume) {
    this.volume = Math.min(1, Math.max(0, volume));
    try {
      this.storage?.setItem('civicSpace.audioVolume', String(this.volume));
    } catch {
      // private mode: the volume is kept for this page only
    }
    this.playback?.setVolume(this.volume);
  }

  setMuted(muted) {
    this.muted = Boolean(muted);
    this.playback?.setMuted(this.muted);
  }

  // --- speaking ---------------------------------------------------------------------------------------------------

  /** Switches the microphone on (asks the browser for it the first time) or off. Resolves to whether it is on. */
  async setMic(on) {
    if (!on) {
      this.stopMic();
      return false;
    }
    if (this.state.micOn) return true;
    if (!this.state.canSpeak) {
      this.set({ micError: 'not_allowed' });
      return false;
    }
    const { AudioCapture, captureUnsupported, packetClock } = await import('./audio-capture.js');
    const why = await captureUnsupported();
    if (why) {
      this.set({ micError: 'unsupported' });
      return false;
    }
    this.clock ??= packetClock();
    const capture = (this.capture = new AudioCapture({
      clock: this.clock,
      onPacket: (bytes) => this.sendPacket(bytes),
      onLevel: (level) => this.emit('level', level),
    }));
    this.set({ micOn: true, micError: null });
    this.sendJSON({ type: 'mic', on: true });
    try {
      await capture.start();
    } catch (error) {
      if (this.capture === capture) {
        this.capture = null;
        capture.stop();
        this.sendJSON({ type: 'mic', on: false });
        this.set({ micOn: false, micError: error?.name === 'NotAllowedError' || error?.name === 'SecurityError' ? 'denied' : 'failed' });
      }
      return false;
    }
    return this.capture === capture;
  }

  sendPacket(bytes) {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1 || !this.state.canSpeak) return;
    if (socket.bufferedAmount > MAX_BUFFERED) return; // a stalled uplink: this frame is too late to matter
    socket.send(bytes);
  }

  stopMic() {
    const capture = this.capture;
    this.capture = null;
    capture?.stop();
    if (this.state.micOn) {
      this.sendJSON({ type: 'mic', on: false });
      this.set({ micOn: false });
    }
  }

  /** The server took this page's right to speak away while the microphone was on. */
  cutOff(reason) {
    this.stopMic();
    this.emit('cutoff', { reason });
  }
}
