// EventLive — a public meeting as an attendee receives it: the live stream `GET /api/events/{id}/live`
// (Server-Sent Events, docs/events.md) folded into ONE state object by the pure `reduce(state, type, data)`,
// plus what the server says about this browser (`GET /api/events/{id}/me`: handle, banned, muted, hand).
// The event page, the text-only and 3D scene pages and the second-screen captions page all read it.
//
// Invariants: `reduce` never mutates its input and never throws on a malformed message (unknown types and
// fields are ignored); captions and chat lines are unique by id and kept in id order, so the snapshot a
// reconnect replays never doubles a line; a removed or banned resident's state is final (`removed` set, the
// stream closed, no reconnect), and so is a deleted meeting's (`deleted`); the server's clock is the meeting's clock (`clockOffset`, from the `now` of
// each state), so a countdown reads the same on every attendee's screen whatever their own clock says.

import { Emitter } from './emitter.js';

export const MAX_CAPTIONS = 500;
export const MAX_CHAT = 200;

export function initialState() {
  return {
    status: 'connecting', // connecting | live | reconnecting | removed | deleted | closed
    event: null, // the latest `state` message (id, state, title, currentItem, agenda, slide, floor, hands, questions, slowMode, pending)
    captions: [], // [{id, at, text}], oldest first
    chat: [], // [{id, handle, name, text, at}], oldest first
    me: { handle: null, banned: false, muted: false, hand: null }, // hand: 1-based queue position or null
    removed: null, // {banned: bool} once this browser was removed from the meeting
    deleted: false, // the meeting was deleted by a host (its streams end; a reconnect would be 404)
    clockOffset: 0, // server seconds minus this browser's seconds
  };
}

const asArray = (value) => (Array.isArray(value) ? value : []);
const asText = (value) => (typeof value === 'string' ? value : '');

/** The 1-based place of `handle` in the hand queue, or null. */
export function queuePosition(hands, handle) {
  if (!handle) return null;
  const index = asArray(hands).findIndex((hand) => hand && hand.handle === handle);
  return index < 0 ? null : index + 1;
}

/** Appends lines unique by id, in id order, keeping the newest `max`. */
function mergeById(lines, added, max) {
  const byId = new Map(lines.map((line) => [line.id, line]));
  for (const line of added) {
    if (line && Number.isFinite(line.id)) byId.set(line.id, line);
  }
  const merged = [...byId.values()].sort((a, b) => a.id - b.id);
  return merged.length > max ? merged.slice(merged.length - max) : merged;
}

/**
 * The next state after one message. `type` is the SSE event name (`state`, `caption`, `chat`, `chat_deleted`,
 * `removed`, `restrictions`, `deleted`) or one of this module's own: `me` (the answer of /me), `open`, `error`, `closed`.
 * A `state` message may carry `receivedAt` (this browser's epoch seconds when it arrived) to set the clock offset.
 */
export function reduce(state, type, data) {
  if ((state.removed || state.deleted) && type !== 'me') return state; // final
  const d = data && typeof data === 'object' ? data : {};
  switch (type) {
    case 'open':
      return { ...state, status: 'live' };
    case 'error':
      return state.status === 'closed' ? state : { ...state, status: 'reconnecting' };
    case 'closed':
      return { ...state, status: 'closed' };
    case 'me': {
      const me = {
        handle: asText(d.handle) || state.me.handle,
        banned: Boolean(d.banned),
        muted: Boolean(d.muted),
        hand: Number.isInteger(d.hand) ? d.hand : null,
      };
      if (me.banned) return { ...state, me, removed: { banned: true }, status: 'removed' };
      // The queue in the latest state wins over an older answer of /me.
      if (state.event) me.hand = queuePosition(state.event.hands, me.handle);
      return { ...state, me };
    }
    case 'state': {
      const event = {
        id: d.id,
        state: asText(d.state),
        title: d.title ?? null,
        currentItem: Number.isInteger(d.currentItem) ? d.currentItem : null,
        agenda: asArray(d.agenda),
        slide: d.slide && typeof d.slide === 'object' ? d.slide : null,
        floor: d.floor && typeof d.floor === 'object' ? d.floor : null,
        hands: asArray(d.hands).filter((hand) => hand && typeof hand.handle === 'string'),
        questions: asArray(d.questions).filter((q) => q && Number.isFinite(q.id)),
        slowMode: Number.isFinite(d.slowMode) ? d.slowMode : 0,
        pending: Number.isFinite(d.pending) ? d.pending : 0,
        recording: Boolean(d.recording), // the stage is being recorded: everyone sees it, listening or not
      };
      const clockOffset = Number.isFinite(d.now) && Number.isFinite(d.receivedAt) ? d.now - d.receivedAt : state.clockOffset;
      const me = { ...state.me, hand: queuePosition(event.hands, state.me.handle) };
      return { ...state, event, me, clockOffset, status: state.status === 'connecting' ? 'live' : state.status };
    }
    case 'caption':
      if (!Number.isFinite(d.id) || typeof d.text !== 'string') return state;
      return { ...state, captions: mergeById(state.captions, [{ id: d.id, at: d.at, text: d.text }], MAX_CAPTIONS) };
    case 'chat':
      if (!Number.isFinite(d.id) || typeof d.text !== 'string') return state;
      return {
        ...state,
        chat: mergeById(state.chat, [{ id: d.id, handle: asText(d.handle), name: asText(d.name), text: d.text, at: d.at }], MAX_CHAT),
      };
    case 'chat_deleted':
      if (!state.chat.some((line) => line.id === d.id)) return state;
      return { ...state, chat: state.chat.filter((line) => line.id !== d.id) };
    case 'deleted':
      return { ...state, deleted: true, status: 'deleted' };
    case 'removed':
      if (!state.me.handle || d.handle !== state.me.handle) return state;
      return { ...state, removed: { banned: Boolean(d.banned) }, status: 'removed' };
    case 'restrictions': {
      const handle = state.me.handle;
      if (!handle) return state;
      if (asArray(d.banned).includes(handle)) return { ...state, removed: { banned: true }, status: 'removed' };
      const muted = asArray(d.muted).includes(handle);
      return muted === state.me.muted ? state : { ...state, me: { ...state.me, muted } };
    }
    default:
      return state;
  }
}

/**
 * What changed about the resident's OWN place in the meeting between two states, for a polite announcement:
 * null, or {kind: 'raised' | 'moved' | 'lowered' | 'floor' | 'floorEnded', position?, seconds?}.
 * Other residents' moves are never announced (only the resulting own position).
 */
export function ownChange(before, after) {
  const handle = after.me.handle;
  if (!handle || !after.event) return null;
  const hadFloor = before.event?.floor?.handle === handle;
  const hasFloor = after.event.floor?.handle === handle;
  if (hasFloor && !hadFloor) return { kind: 'floor', seconds: after.event.floor.seconds };
  if (hadFloor && !hasFloor) return { kind: 'floorEnded' };
  const was = before.event ? before.me.hand : null;
  const now = after.me.hand;
  if (was === now) return null;
  if (was === null) return { kind: 'raised', position: now };
  if (now === null) return hasFloor ? null : { kind: 'lowered' };
  return { kind: 'moved', position: now };
}

/** Whole seconds left on the floor, by the server's clock (never negative); null without a floor. */
export function floorRemaining(floor, nowSeconds, clockOffset = 0) {
  if (!floor || !Number.isFinite(floor.until)) return null;
  return Math.max(0, Math.ceil(floor.until - (nowSeconds + clockOffset)));
}

/** "m:ss" (or "h:mm:ss") for a countdown. */
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** The question the chair marked as being answered, or null. */
export function answering(state) {
  return state.event?.questions.find((q) => q.state === 'answering') ?? null;
}

const STREAM_TYPES = ['state', 'caption', 'chat', 'chat_deleted', 'removed', 'restrictions', 'deleted'];

/**
 * The stream of one event. Emits `change` ({state, before, type}) after every message. `start()` asks /me
 * first (it sets the resident cookie the stream and the actions need), then opens the stream; a refused
 * stream (403 banned) or a `removed` message for this browser closes it for good.
 */
export class EventLive extends Emitter {
  constructor(eventId, { EventSourceImpl = globalThis.EventSource, fetchImpl = (...args) => fetch(...args), clock = () => Date.now() / 1000 } = {}) {
    super();
    this.eventId = eventId;
    this.EventSourceImpl = EventSourceImpl;
    this.fetchImpl = fetchImpl;
    this.clock = clock;
    this.state = initialState();
    this.source = null;
  }

  get base() {
    return `/api/events/${encodeURIComponent(this.eventId)}`;
  }

  apply(type, data) {
    const before = this.state;
    const after = reduce(before, type, type === 'state' ? { ...data, receivedAt: this.clock() } : data);
    if (after === before) return;
    this.state = after;
    if ((after.removed && !before.removed) || (after.deleted && !before.deleted)) this.close('final');
    this.emit('change', { state: after, before, type });
  }

  async start() {
    await this.refreshMe();
    if (this.state.removed) return;
    this.open();
  }

  /** Reads /me again (after a refused stream, or an action the server refused as banned or muted). */
  async refreshMe() {
    try {
      const response = await this.fetchImpl(`${this.base}/me`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (response.ok) this.apply('me', await response.json());
    } catch {
      // the stream still works without it: the hand position is then unknown
    }
  }

  open() {
    if (this.source || this.state.removed) return;
    const source = (this.source = new this.EventSourceImpl(`${this.base}/live`));
    source.addEventListener('open', () => this.apply('open', {}));
    source.addEventListener('error', () => {
      // EventSource reconnects by itself after a dropped connection; a refused one (403 banned, 404) is CLOSED.
      if (source.readyState === 2) {
        this.source = null;
        this.refreshMe().then(() => {
          if (!this.state.removed) this.apply('closed', {});
        });
      } else {
        this.apply('error', {});
      }
    });
    for (const type of STREAM_TYPES) {
      source.addEventListener(type, (message) => {
        let data;
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        this.apply(type, data);
      });
    }
  }

  close(status = 'closed') {
    this.source?.close();
    this.source = null;
    if (status === 'closed') this.apply('closed', {});
  }
}
