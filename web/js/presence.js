// Presence — the resident's realtime connection to the room of a scene (docs/protocol.md, version 1):
// hello/welcome, the roster (join, leave, rename, roster), chat, errors, and poses both ways.
//
// No DOM and no three.js: the app gives it a pose getter and listens to its events (OWN_EVENTS below),
// so the 3D view never depends on the connection and walking works offline. Every other event type the
// server sends (content events: 'hotspot', 'proposal', 'proposal_supports', and whatever comes next) is
// handed, as it came, to whoever subscribed with `on(type, handler)`: a new content event touches its
// producer and its consumer, not this module. Wire constants and the codec come from protocol.js.
// Invariants: at most one POSE per tick, and only when the quantised pose changed or KEEPALIVE_MS
// passed; a POSE is exactly 10 bytes, little-endian, quantised over `welcome.bounds`; every name we
// send passes the same rule as the server's, so a resident's typo never gets the socket closed; after
// a drop we reconnect with jittered exponential backoff, except when reconnecting cannot help
// (another protocol version, unknown scene).

import { Emitter } from './emitter.js';
import {
  CLOSE_PROTOCOL,
  CLOSE_ROOM_FULL,
  CLOSE_SCENE_NOT_FOUND,
  CLOSE_SCENE_PREPARING,
  PREPARING_RETRY_SECONDS,
  MAX_CHAT_LENGTH,
  PROTOCOL_VERSION,
  Quantizer,
  decodeFrame,
  validName,
} from './protocol.js';

// The views that check input before sending (presence-ui.js) read the rules from here too.
export { MAX_CHAT_LENGTH, validName };

const KEEPALIVE_MS = 2000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const SHUTDOWN_RETRY_MS = 3000; // the server said it is restarting: give it a moment
const MAX_BUFFERED = 64 * 1024; // skip a pose rather than queue behind a stalled socket
const NAME_KEY = 'civicSpace.name';
// The events this module emits itself, with its own shapes: a server message of one of these types is
// never passed through raw.
const OWN_EVENTS = new Set(['status', 'welcome', 'members', 'join', 'leave', 'rename', 'chat', 'frame', 'problem', 'overflow']);

/** ws(s)://<this host>/ws */
export function socketUrl(loc = location) {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export class Presence extends Emitter {
  /**
   * @param {{sceneId: string, instance?: number, getPose?: () => ({x, y, z, yaw, pitch}|null),
   *          url?: string, storage?: Storage|null, WebSocketImpl?: typeof WebSocket}} options
   */
  constructor({ sceneId, instance = 1, getPose = () => null, url = socketUrl(), storage = safeStorage(), WebSocketImpl = WebSocket }) {
    super();
    Object.assign(this, { sceneId, instance, getPose, url, storage, WebSocketImpl });
    this.id = null;
    this.name = null;
    this.tickHz = 20;
    this.capacity = null;
    this.quantizer = null;
    this.roster = new Map(); // id -> name, in join order
    this.status = 'idle'; // idle | connecting | connected | waiting | full | outdated | gone
    this.ws = null;
    this.attempts = 0;
    this.retryTimer = 0;
    this.poseTimer = 0;
    this.lastPose = null; // bytes of the last POSE sent
    this.lastPoseAt = 0;
    this.closing = null; // what the server told us before closing: {code, overflow?}
    this.stopped = false;
    this.onOnline = () => {
      if (this.status === 'waiting') this.reconnectNow();
    };
    window.addEventListener('online', this.onOnline);
  }

  get connected() {
    return this.status === 'connected';
  }

  /** [{id, name}] of everyone in the room, the resident included. */
  members() {
    return [...this.roster].map(([id, name]) => ({ id, name }));
  }

  /** The display name the resident chose earlier (localStorage), if valid. */
  savedName() {
    try {
      return validName(this.storage?.getItem(NAME_KEY));
    } catch {
      return null;
    }
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.retryTimer);
    window.addEventListener('online', this.onOnline); // adding the same listener twice is a no-op
    if (this.ws) return;
    this.setStatus('connecting');
    let ws;
    try {
      ws = this.ws = new this.WebSocketImpl(this.url);
    } catch {
      this.ws = null;
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.closing = null;
    ws.addEventListener('open', () => {
      const hello = { type: 'hello', protocol: PROTOCOL_VERSION, scene: this.sceneId, instance: this.instance };
      const name = this.savedName();
      if (name) hello.name = name;
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener('message', (event) => {
      if (ws !== this.ws) return;
      if (typeof event.data === 'string') this.onControl(event.data);
      else this.onBinary(event.data);
    });
    ws.addEventListener('close', (event) => {
      if (ws === this.ws) this.onClose(event);
    });
    // 'error' is always followed by 'close', where the reconnect is decided.
  }

  /** Leaves the room for good (page closing). */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPoses();
    window.removeEventListener('online', this.onOnline);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000, 'left');
    this.setStatus('idle'); // its close event is ignored (this.ws moved on), so say it here
  }

  reconnectNow() {
    clearTimeout(this.retryTimer);
    this.connect();
  }

  /** Sends a chat line. Returns an error code ('empty', 'too_long', 'offline') or null when sent. */
  say(raw) {
    const text = String(raw ?? '').trim();
    if (!text) return 'empty';
    if (text.length > MAX_CHAT_LENGTH) return 'too_long';
    if (/[\r\n]/.test(text)) return 'bad_text';
    return this.sendJSON({ type: 'chat', text }) ? null : 'offline';
  }

  /**
   * Changes the display name: remembered for the next visits, sent now when connected.
   * Returns an error code ('invalid_name') or null.
   */
  rename(raw) {
    const name = validName(raw);
    if (!name) return 'invalid_name';
    try {
      this.storage?.setItem(NAME_KEY, name);
    } catch {
      // private mode: the name still applies to this visit
    }
    if (this.connected && name !== this.name) this.sendJSON({ type: 'rename', name });
    return null;
  }

  sendJSON(message) {
    if (!this.connected || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  // --- incoming ----------------------------------------------------------------------------------

  onControl(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // the server only sends JSON; ignore anything else rather than break
    }
    this.onMessage(message);
  }

  onMessage(message) {
    if (!message || typeof message.type !== 'string') return;
    switch (message.type) {
      case 'batch': // a tick's room events in one frame (docs/protocol.md)
        for (const event of Array.isArray(message.events) ? message.events : []) this.onMessage(event);
        return;
      case 'welcome':
        return this.onWelcome(message);
      case 'join': {
        const { id, name } = message.member || {};
        if (typeof id !== 'number') return;
        this.roster.set(id, String(name ?? ''));
        this.emit('join', { id, name: this.roster.get(id) });
        return this.emit('members', this.members());
      }
      case 'leave': {
        const name = this.roster.get(message.id);
        if (!this.roster.delete(message.id)) return;
        this.emit('leave', { id: message.id, name, reason: message.reason });
        return this.emit('members', this.members());
      }
      case 'rename': {
        if (!this.roster.has(message.id)) return;
        const previous = this.roster.get(message.id);
        const name = String(message.name ?? '');
        this.roster.set(message.id, name);
        if (message.id === this.id) this.name = name;
        this.emit('rename', { id: message.id, name, previous, self: message.id === this.id });
        return this.emit('members', this.members());
      }
      case 'roster':
        this.setRoster(message.members);
        return this.emit('members', this.members());
      case 'chat':
        return this.emit('chat', {
          id: message.id,
          name: String(message.name ?? ''),
          text: String(message.text ?? ''),
          ts: Number(message.ts) || Date.now() / 1000,
          self: message.id === this.id,
        });
      case 'error':
        return this.onError(message);
      default:
        // Any other event (content events such as 'hotspot', 'proposal', 'proposal_supports', and types
        // newer servers add) goes, as it came, to whoever subscribed to its type: connection.on(type, ...).
        if (OWN_EVENTS.has(message.type)) return undefined;
        return this.emit(message.type, message);
    }
  }

  onWelcome(message) {
    this.id = message.id;
    this.name = message.name;
    this.instance = message.instance ?? this.instance;
    this.tickHz = Number(message.tickHz) > 0 ? Number(message.tickHz) : 20;
    this.capacity = message.capacity ?? null;
    this.quantizer = new Quantizer(message.bounds);
    this.setRoster(message.members);
    this.attempts = 0;
    this.lastPose = null;
    this.setStatus('connected');
    this.emit('welcome', { id: this.id, name: this.name, instance: this.instance, tickHz: this.tickHz });
    this.emit('members', this.members());
    this.startPoses();
  }

  onError(message) {
    const code = String(message.code || 'error');
    if (code === 'room_full') {
      this.closing = { code, overflow: message.overflow };
    } else if (code === 'protocol_version' || code === 'server_shutdown' || code === 'scene_not_found') {
      this.closing = { code };
    } else if (code === 'scene_preparing') {
      this.closing = { code, retryAfter: Number(message.retryAfter) };
    }
    this.emit('problem', { code, message: message.message, overflow: message.overflow });
  }

  onBinary(buffer) {
    if (!this.quantizer) return;
    const frame = decodeFrame(buffer);
    if (!frame) return;
    const q = this.quantizer;
    const avatars = [];
    for (const a of frame.avatars) {
      if (a.id === this.id) continue; // our own pose comes back in frames: the walker is the truth
      avatars.push({
        id: a.id,
        x: q.metres(a.x, 0),
        y: q.metres(a.y, 1),
        z: q.metres(a.z, 2),
        yaw: Quantizer.yawRadians(a.yaw),
        pitch: Quantizer.pitchRadians(a.pitch),
      });
    }
    this.emit('frame', { tick: frame.tick, receivedAt: performance.now(), avatars });
  }

  onClose(event) {
    this.ws = null;
    this.stopPoses();
    const wasConnected = this.status === 'connected';
    this.roster.clear();
    this.id = null;
    if (wasConnected) this.emit('members', []);
    if (this.stopped) return this.setStatus('idle');

    const said = this.closing || {};
    const code = event.code;
    if (said.code === 'protocol_version' || code === CLOSE_PROTOCOL) return this.setStatus('outdated');
    if (said.code === 'scene_not_found' || code === CLOSE_SCENE_NOT_FOUND) return this.setStatus('gone');
    if (said.code === 'room_full' || code === CLOSE_ROOM_FULL) {
      const next = said.overflow && Number(said.overflow.instance);
      if (next && next !== this.instance) {
        this.instance = next;
        this.emit('overflow', { instance: next });
        return this.connect(); // the overflow instance, at once
      }
      this.setStatus('full'); // every instance is full: try again later
      return this.scheduleReconnect(BACKOFF_MAX_MS);
    }
    if (said.code === 'server_shutdown') return this.scheduleReconnect(SHUTDOWN_RETRY_MS);
    if (said.code === 'scene_preparing' || code === CLOSE_SCENE_PREPARING) {
      // Just added or updated, not ready yet: come back when the server said (1 to 60 s), not sooner.
      const seconds = Math.min(60, Math.max(1, said.retryAfter || PREPARING_RETRY_SECONDS));
      this.scheduleReconnect(seconds * 1000);
      return this.setStatus('preparing');
    }
    return this.scheduleReconnect();
  }

  scheduleReconnect(atLeast = 0) {
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts);
    const delay = Math.max(atLeast, backoff * (0.5 + Math.random() * 0.5));
    this.attempts = Math.min(this.attempts + 1, 10);
    this.retryAt = Date.now() + delay;
    if (this.status !== 'full') this.setStatus('waiting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.emit('status', { status, retryAt: this.retryAt, instance: this.instance });
  }

  setRoster(members) {
    this.roster.clear();
    for (const member of Array.isArray(members) ? members : []) {
      if (member && typeof member.id === 'number') this.roster.set(member.id, String(member.name ?? ''));
    }
  }

  // --- outgoing poses -----------------------------------------------------------------------------

  startPoses() {
    this.stopPoses();
    this.poseTimer = setInterval(() => this.sendPose(), Math.max(10, 1000 / this.tickHz));
    this.sendPose();
  }

  stopPoses() {
    clearInterval(this.poseTimer);
    this.poseTimer = 0;
  }

  /** One tick: send the pose if it changed, or as a keep-alive; never more than once per call. */
  sendPose(now = performance.now()) {
    const ws = this.ws;
    if (!this.connected || !ws || ws.readyState !== 1 || !this.quantizer) return false;
    if (ws.bufferedAmount > MAX_BUFFERED) return false;
    const pose = this.getPose();
    if (!pose) return false;
    const bytes = this.quantizer.encodePose(pose);
    if (this.lastPose && sameBytes(bytes, this.lastPose) && now - this.lastPoseAt < KEEPALIVE_MS) return false;
    ws.send(bytes);
    this.lastPose = bytes;
    this.lastPoseAt = now;
    return true;
  }
}

function sameBytes(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

function safeStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
