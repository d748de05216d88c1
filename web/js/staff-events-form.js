// Staff events form — the pure part of /staff/events (no DOM, no network): the agenda as an ordered list that
// moves by whole steps, wall-clock times in the event's time zone turned into UTC epoch seconds and back, and
// the form's values turned into the request body of POST/PATCH /api/events (docs/events.md) with every
// problem named by field, before anything is sent.
//
// Invariants: list operations return new lists (the form re-renders from them) and keep the moved item's
// index so focus can follow it; a time is read in the event's own zone whatever zone this browser is in
// (a clerk in Lisbon schedules an Amsterdam meeting at Amsterdam's 19:00); texts are trimmed, and a
// language left empty is left out of the body, not sent as "".

export const LANGS = Object.freeze(['en', 'fr', 'nl', 'es']);
export const DUTIES = Object.freeze(['chair', 'moderator', 'captioner']);
export const MAX_ITEMS = 100;
export const MAX_DOCUMENTS = 20;
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 4000;
export const CAPACITY_MAX = 100000;
const HALF_DAY = 12 * 3600 * 1000;
const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/; // as the API's Username
export const MAX_DUTY = 20;

export function emptyItem() {
  return { title: {}, description: {}, documents: [] };
}

/** [list with the item at `index` moved by `delta` (+1 down, −1 up), its new index]; unchanged at an end. */
export function moveItem(list, index, delta) {
  const target = index + delta;
  if (index < 0 || index >= list.length || target < 0 || target >= list.length) return [list, index];
  const next = [...list];
  const [item] = next.splice(index, 1);
  next.splice(target, 0, item);
  return [next, target];
}

/** [list with a new empty item after `index` (−1: at the end), its index]. */
export function addItem(list, index = -1, item = emptyItem()) {
  if (list.length >= MAX_ITEMS) return [list, -1];
  const at = index < 0 ? list.length : index + 1;
  const next = [...list];
  next.splice(at, 0, item);
  return [next, at];
}

/** [list without the item at `index`, the index that should take focus (−1: none left)]. */
export function removeItem(list, index) {
  if (index < 0 || index >= list.length) return [list, -1];
  const next = list.filter((_, i) => i !== index);
  return [next, next.length ? Math.min(index, next.length - 1) : -1];
}

function zoneParts(epochMs, timeZone) {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const parts = Object.fromEntries(format.formatToParts(new Date(epochMs)).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** True when `timeZone` is an IANA zone this browser knows. */
export function validTimeZone(timeZone) {
  if (typeof timeZone !== 'string' || !timeZone || timeZone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function offsetMs(epochMs, timeZone) {
  const p = zoneParts(epochMs, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (epochMs - (epochMs % 1000));
}

/**
 * UTC epoch seconds of a wall-clock time "YYYY-MM-DDTHH:MM" in `timeZone`; null when it does not parse. A
 * time skipped by a DST change reads as that much after the jump (02:30 → 03:30); a repeated one as its first.
 */
export function zonedToEpoch(local, timeZone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(String(local ?? ''));
  if (!match || !validTimeZone(timeZone)) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The zone's offsets half a day either side cover any change on that day: each gives a candidate.
  const candidates = [wall - offsetMs(wall - HALF_DAY, timeZone), wall - offsetMs(wall + HALF_DAY, timeZone)];
  const exact = candidates.filter((ms) => epochToZoned(ms / 1000, timeZone) === local);
  return (exact.length ? Math.min(...exact) : candidates[0]) / 1000;
}

/** "YYYY-MM-DDTHH:MM" of epoch seconds in `timeZone` (the value of an <input type="datetime-local">). */
export function epochToZoned(epoch, timeZone) {
  if (typeof epoch !== 'number' || !validTimeZone(timeZone)) return '';
  const p = zoneParts(epoch * 1000, timeZone);
  const two = (n) => String(n).padStart(2, '0');
  return `${String(p.year).padStart(4, '0')}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`;
}

/** "alice, bob carol" → ['alice', 'bob', 'carol'] (order kept, duplicates dropped); bad names in `invalid`. */
export function parseUsernames(text) {
  const names = [];
  const invalid = [];
  for (const name of String(text ?? '').split(/[\s,;]+/)) {
    if (!name) continue;
    if (!USERNAME.test(name)) invalid.push(name);
    else if (!names.includes(name)) names.push(name);
  }
  return { names, invalid };
}

function texts(values, max, field, problems) {
  const out = {};
  for (const lang of LANGS) {
    const text = String(values?.[lang] ?? '').trim();
    if (!text) continue;
    if (text.length > max) problems.push({ field: `${field}.${lang}`, key: 'console.form.tooLong', max });
    out[lang] = text;
  }
  return out;
}

function validUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * The request body of the form's `values` ({title, description, scene, zone, start, end, timezone, capacity,
 * agenda, staff: {chair: "a, b", …}}), or the problems found: {body, problems: [{field, key, …}]}. With
 * `version` the body is a PATCH's.
 */
export function formToBody(values, version = null) {
  const problems = [];
  const title = texts(values.title, TITLE_MAX, 'title', problems);
  if (!Object.keys(title).length) problems.push({ field: 'title.en', key: 'console.form.titleMissing' });
  const description = texts(values.description, DESCRIPTION_MAX, 'description', problems);
  if (!values.scene) problems.push({ field: 'scene', key: 'console.form.sceneMissing' });
  const timezone = String(values.timezone ?? '').trim();
  if (!validTimeZone(timezone)) problems.push({ field: 'timezone', key: 'console.form.badTimeZone' });
  const startsAt = validTimeZone(timezone) ? zonedToEpoch(values.start, timezone) : null;
  if (startsAt == null) problems.push({ field: 'start', key: 'console.form.badStart' });
  let endsAt = null;
  if (values.end) {
    endsAt = validTimeZone(timezone) ? zonedToEpoch(values.end, timezone) : null;
    if (endsAt == null) problems.push({ field: 'end', key: 'console.form.badEnd' });
    else if (startsAt != null && endsAt <= startsAt) problems.push({ field: 'end', key: 'console.form.endBeforeStart' });
  }
  // An empty capacity is left out: the API's default on a new meeting, unchanged on an edit.
  const rawCapacity = String(values.capacity ?? '').trim();
  const capacity = rawCapacity === '' ? null : Number(rawCapacity);
  if (capacity != null && (!Number.isInteger(capacity) || capacity < 1 || capacity > CAPACITY_MAX)) {
    problems.push({ field: 'capacity', key: 'console.form.badCapacity', max: CAPACITY_MAX });
  }
  const agenda = (values.agenda ?? []).map((item, index) => {
    const itemTitle = texts(item.title, TITLE_MAX, `agenda.${index}.title`, problems);
    if (!Object.keys(itemTitle).length) problems.push({ field: `agenda.${index}.title.en`, key: 'console.form.itemTitleMissing', n: index + 1 });
    const documents = (item.documents ?? [])
      .map((doc) => ({ title: String(doc.title ?? '').trim(), url: String(doc.url ?? '').trim() }))
      .filter((doc) => doc.title || doc.url);
    documents.forEach((doc, d) => {
      if (!validUrl(doc.url)) problems.push({ field: `agenda.${index}.documents.${d}.url`, key: 'console.form.badUrl', n: index + 1 });
      if (!doc.title) problems.push({ field: `agenda.${index}.documents.${d}.title`, key: 'console.form.docTitleMissing', n: index + 1 });
    });
    if (documents.length > MAX_DOCUMENTS) problems.push({ field: `agenda.${index}.documents`, key: 'console.form.tooManyDocuments', n: index + 1 });
    const out = { title: itemTitle, description: texts(item.description, DESCRIPTION_MAX, `agenda.${index}.description`, problems), documents };
    if (item.ref) out.ref = item.ref;
    return out;
  });
  const staff = {};
  for (const duty of DUTIES) {
    const { names, invalid } = parseUsernames(values.staff?.[duty]);
    if (invalid.length) problems.push({ field: `staff.${duty}`, key: 'console.form.badUsernames', names: invalid.join(', ') });
    if (names.length > MAX_DUTY) problems.push({ field: `staff.${duty}`, key: 'console.form.tooManyNames', max: MAX_DUTY });
    staff[duty] = names;
  }
  const body = {
    title,
    description,
    scene: values.scene,
    zone: values.zone || null,
    startsAt,
    endsAt,
    timezone,
    capacity,
    agenda,
    staff,
  };
  if (capacity == null) delete body.capacity;
  if (version != null) body.version = version;
  return { body, problems };
}

/** The form's values for an event as the API sends it (the reverse of formToBody). */
export function eventToForm(event) {
  const timezone = event.timezone || 'UTC';
  const join = (list) => (Array.isArray(list) ? list.join(', ') : '');
  return {
    title: { ...(event.title ?? {}) },
    description: { ...(event.description ?? {}) },
    scene: event.scene ?? '',
    zone: event.zone ?? '',
    start: epochToZoned(event.startsAt, timezone),
    end: event.endsAt == null ? '' : epochToZoned(event.endsAt, timezone),
    timezone,
    capacity: event.capacity > 0 ? event.capacity : '', // 0: imported without one (the scene's own limit)
    agenda: (event.agenda ?? []).map((item) => ({
      title: { ...(item.title ?? {}) },
      description: { ...(item.description ?? {}) },
      documents: (item.documents ?? []).map((doc) => ({ ...doc })),
      ref: item.ref ?? null,
    })),
    staff: Object.fromEntries(DUTIES.map((duty) => [duty, join(event.staff?.[duty])])),
  };
}

/** A slide's text alternative as the API takes it ({lang: text}, at least one), or null when none is given. */
export function slideAlt(values) {
  const out = {};
  for (const lang of LANGS) {
    const text = String(values?.[lang] ?? '').trim();
    if (text) out[lang] = text.slice(0, 1000);
  }
  return Object.keys(out).length ? out : null;
}

export const SLIDE_TYPES = Object.freeze(['image/png', 'image/jpeg', 'image/webp']);
export const SLIDE_MAX_BYTES = 8 * 1024 * 1024;

/** Null when `file` ({type, size}) can be sent as a slide; else the message key saying why not. */
export function slideFileProblem(file) {
  if (!file) return 'console.slides.noFile';
  if (!SLIDE_TYPES.includes(file.type)) return 'console.slides.badType';
  if (file.size > SLIDE_MAX_BYTES) return 'console.slides.tooBig';
  return null;
}
