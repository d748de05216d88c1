// Console state — the pure part of the chair's console and the caption console (no DOM, no network): what a
// staff member may do in one event, which state changes are valid next, how the agenda moves, the floor's
// countdown, and one reducer that folds the live stream (docs/events.md, "Live stream") and the staff view
// into the model the console shows.
//
// Invariants: only forward transitions are offered (scheduled → open → live → ended → archived, and
// scheduled → live), the server's own rule; the countdown follows the server's clock (the skew measured from
// each `state` message's `now`), so a wrong clock on the chair's computer never shortens a speaker's time;
// lists from the stream are bounded (chat and captions keep the newest), and a message seen twice (a
// reconnect's snapshot) is kept once.

export const NEXT_STATES = Object.freeze({
  scheduled: Object.freeze(['open', 'live']),
  open: Object.freeze(['live']),
  live: Object.freeze(['ended']),
  ended: Object.freeze(['archived']),
  archived: Object.freeze([]),
});
/** The floor's time limits offered (seconds); the API accepts 30..1800. */
export const FLOOR_CHOICES = Object.freeze([60, 120, 180, 300, 600]);
export const FLOOR_MIN = 30;
export const FLOOR_MAX = 1800;
export const SLOW_MODE_CHOICES = Object.freeze([0, 10, 30, 60, 120, 300]);
export const CAPTION_MAX = 300;
export const MAX_CHAT = 200;
export const MAX_CAPTIONS = 200;

/** The states an event in `state` may move to next, in the order the buttons show them. */
export function allowedTransitions(state) {
  return NEXT_STATES[state] ?? [];
}

/**
 * What `user` ({username, role}) may do in an event whose duties are `staff` ({chair, moderator, captioner}:
 * usernames; `duties`: the staff view's list for this user): the rule of docs/events.md ("Identity"). A host who holds no duty may look, not act.
 */
export function abilities(user, staff = {}, duties = []) {
  if (!user) return { chair: false, moderator: false, captioner: false };
  const admin = user.role === 'admin';
  // `duties`: what the server's staff view says this user holds; the duty lists say the same from the event.
  const holds = (duty) => duties.includes(duty) || (Array.isArray(staff?.[duty]) && staff[duty].includes(user.username));
  const chair = admin || holds('chair');
  return { chair, moderator: chair || holds('moderator'), captioner: chair || holds('captioner') };
}

/**
 * The agenda index after a move: `delta` +1 (next) or -1 (previous) from `current` (null: no item yet), in an
 * agenda of `count` items. Null when there is nowhere to go (the button is then unavailable).
 */
export function stepItem(current, count, delta) {
  if (!count) return null;
  if (current == null) return delta > 0 ? 0 : null;
  const target = current + delta;
  return target >= 0 && target < count ? target : null;
}

/** The slide after `delta` (+1/-1) from the one shown (`currentId` or null) in `slides` (ordered); null at an end. */
export function stepSlide(slides, currentId, delta) {
  if (!slides.length) return null;
  const index = slides.findIndex((slide) => slide.id === currentId);
  if (index < 0) return delta > 0 ? slides[0].id : null;
  const target = slides[index + delta];
  return target ? target.id : null;
}

/** A time limit the API accepts: whole seconds within 30..1800, or null. */
export function floorSeconds(value) {
  const seconds = Number(value);
  return Number.isInteger(seconds) && seconds >= FLOOR_MIN && seconds <= FLOOR_MAX ? seconds : null;
}

/** Whole seconds left on the floor, by the server's clock (`skew` = server time − this clock, seconds). */
export function remainingSeconds(floor, nowMs, skew = 0) {
  if (!floor || typeof floor.until !== 'number') return 0;
  return Math.max(0, Math.ceil(floor.until - (nowMs / 1000 + skew)));
}

/** "m:ss" (or "h:mm:ss"): a countdown as clocks show it. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A caption line as the API takes it: trimmed, one line, 1..300 characters; else {error: key}. */
export function captionText(raw) {
  const text = String(raw ?? '').replace(/\s+/g, ' ').trim();
  if (!text) return { error: 'console.caption.empty' };
  if (text.length > CAPTION_MAX) return { error: 'console.caption.tooLong' };
  return { text };
}

export function emptyModel() {
  return {
    live: null, // the last `state` message
    skew: 0, // server clock − this clock (seconds)
    captions: [],
    chat: [],
    restrictions: { muted: [], banned: [] },
    staffView: null, // GET /staff-view: duties, pending questions, restrictions, chat with handles
  };
}

function appendUnique(list, item, max) {
  if (list.some((entry) => entry.id === item.id)) return list;
  const next = [...list, item];
  return next.length > max ? next.slice(next.length - max) : next;
}

/**
 * The model after one message of the live stream (`type`, `data`), or after the staff view was read
 * (type 'staff-view'). `nowMs` is this clock when the message arrived. Never mutates `model`.
 */
export function reduce(model, type, data, nowMs = Date.now()) {
  switch (type) {
    case 'state':
      return { ...model, live: data, skew: typeof data.now === 'number' ? data.now - nowMs / 1000 : model.skew };
    case 'caption':
      return { ...model, captions: appendUnique(model.captions, data, MAX_CAPTIONS) };
    case 'chat':
      return { ...model, chat: appendUnique(model.chat, data, MAX_CHAT) };
    case 'chat_deleted':
      return { ...model, chat: model.chat.filter((line) => line.id !== data.id) };
    case 'restrictions':
      return { ...model, restrictions: { muted: [...(data.muted ?? [])], banned: [...(data.banned ?? [])] } };
    case 'staff-view': {
      const restrictions = data.restrictions
        ? { muted: [...(data.restrictions.mute ?? data.restrictions.muted ?? [])], banned: [...(data.restrictions.ban ?? data.restrictions.banned ?? [])] }
        : model.restrictions;
      let chat = model.chat;
      for (const line of data.chat ?? []) chat = appendUnique(chat, line, MAX_CHAT);
      return { ...model, staffView: data, restrictions, chat: chat.sort((a, b) => a.at - b.at || a.id - b.id) };
    }
    default:
      return model;
  }
}

/** The questions waiting for review (staff view), oldest first. */
export function pendingQuestions(model) {
  const questions = model.staffView?.pendingQuestions ?? model.staffView?.questions ?? [];
  return questions.filter((question) => (question.state ?? 'pending') === 'pending');
}

/** True when the staff view is older than the stream says (a question arrived or was reviewed). */
export function staffViewStale(model) {
  if (!model.live || !model.staffView) return Boolean(model.live);
  return pendingQuestions(model).length !== (model.live.pending ?? 0);
}

/** The handles restricted by `kind` ('muted' | 'banned'). */
export function restricted(model, kind, handle) {
  return model.restrictions[kind].includes(handle);
}
