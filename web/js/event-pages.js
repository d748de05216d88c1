// Event pages — the script of /events, /events/{id} and /events/{id}/captions. The server renders each page whole
// in the visitor's language (server/api/event_pages.py); this adds the preferences, the language select and, on
// a meeting's page, the meeting as it happens (its state and current agenda item) and its stage audio ("Listen",
// audio-controls.js), and, on the captions page, the captions themselves — both from the meeting's live stream
// (event-live.js).
//
// Invariants: nothing the server rendered is rebuilt (no flash); the meeting page's state line is a polite
// status (doors opening or the start is said once); the captions page shows captions and its connection state
// only; body[data-state] ends as "ready" for tests.

import { Announcer } from './announcer.js';
import { AudioControls } from './audio-controls.js';
import { CaptionLog } from './event-captions.js';
import { EventLive } from './event-live.js';
import { setUpChrome, startPage } from './site.js';

const doc = document;
const { prefs, i18n } = await startPage(doc);
const page = doc.body.dataset.page;
const eventId = doc.body.dataset.eventId;
if (page !== 'captions') setUpChrome({ doc, i18n, prefs });

// A meeting that ended changes no more: its page needs no stream.
const ended = ['ended', 'archived'].includes(doc.getElementById('event-state')?.dataset.state);
const meetingLive = eventId && page === 'event' && !ended ? new EventLive(eventId) : null;
if (meetingLive) followMeetingPage(meetingLive);
if (eventId && page === 'captions') followCaptions(new EventLive(eventId));
if (meetingLive) await offerListening(meetingLive);
doc.body.dataset.state = 'ready';

/** The meeting page: the state badge and the current agenda item follow the meeting. */
function followMeetingPage(live) {
  const badge = doc.getElementById('event-state');
  const current = doc.getElementById('event-current');
  const currentTitle = doc.getElementById('event-current-title');
  const items = [...doc.querySelectorAll('#agenda-list .agenda-item')];
  live.on('change', ({ state }) => {
    const event = state.event;
    if (state.deleted) {
      badge.textContent = i18n.t('events.deletedTitle');
      badge.dataset.state = 'deleted';
      return;
    }
    if (!event) return;
    if (badge.dataset.state !== event.state) {
      badge.dataset.state = event.state;
      badge.textContent = i18n.t(`events.state.${event.state}`);
    }
    const index = event.state === 'live' ? event.currentItem : null;
    items.forEach((item, i) => {
      const now = i === index;
      if (now === item.hasAttribute('aria-current')) return;
      item.toggleAttribute('aria-current', now);
      if (now) item.setAttribute('aria-current', 'step');
      item.querySelector('.agenda-now')?.remove();
      if (now) {
        const label = doc.createElement('p');
        label.className = 'agenda-now';
        label.textContent = i18n.t('events.nowShort');
        item.querySelector('h3').after(label);
      }
    });
    const item = index !== null ? event.agenda[index] : null;
    current.hidden = !item;
    if (item) i18n.setText(currentTitle, item.title);
  });
  live.start();
}

/** "Listen" on the meeting's page: the stage audio without entering the scene (the lightest way to attend). */
async function offerListening(live) {
  const container = doc.getElementById('event-audio');
  if (!container) return;
  const { StageAudio } = await import('./stage-audio.js');
  let storage = null;
  try {
    storage = window.localStorage;
  } catch {
    // private mode: no remembered volume
  }
  const audio = new StageAudio({ eventId, storage });
  const announcer = pageAnnouncer();
  const controls = new AudioControls(doc, {
    i18n, announcer, audio, container, idPrefix: 'page-audio', labelledBy: 'event-audio-heading',
  });
  // The recording indicator and the audio's end follow the meeting's stream (listening or not).
  const follow = ({ state }) => audio.followMeeting(state.event);
  live.on('change', follow);
  follow({ state: live.state });
  window.civicSpace = { ...(window.civicSpace || {}), audio, audioControls: controls };
}

/** The page's polite live region (made here when the page has none). */
function pageAnnouncer() {
  let region = doc.getElementById('announcer');
  if (!region) {
    region = doc.createElement('div');
    region.id = 'announcer';
    region.className = 'visually-hidden';
    region.setAttribute('role', 'status');
    region.setAttribute('aria-live', 'polite');
    doc.body.append(region);
  }
  return new Announcer(region);
}

/** The second screen: captions, big, newest last; and whether they are live. */
function followCaptions(live) {
  const log = new CaptionLog(doc.getElementById('captions-log'), doc.getElementById('captions-lines'));
  const status = doc.getElementById('captions-status');
  const say = (key) => {
    status.textContent = i18n.t(key);
  };
  live.on('change', ({ state }) => {
    log.update(state.captions);
    if (state.removed) say(state.removed.banned ? 'events.bannedText' : 'events.removedText');
    else if (state.deleted) say('events.deletedText');
    else if (state.status === 'reconnecting') say('events.reconnecting');
    else if (state.status === 'closed') say('events.streamClosed');
    else if (state.event && ['ended', 'archived'].includes(state.event.state)) say('events.captionsEnded');
    else if (state.event?.state === 'live') status.textContent = state.captions.length ? '' : i18n.t('events.captionsWaiting');
    else if (state.event) say('events.captionsWaiting');
  });
  live.start();
}
