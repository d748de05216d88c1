// Chair's console — /events/{id}/console: the chair runs the meeting (doors, start, agenda, slides, floor,
// questions being answered, end) and moderators keep it civil (questions, chat, mute, remove, ban, slow mode).
// The stage audio card (audio-controls.js over stage-audio.js): the microphone of whoever chairs or hosts, and
// listening to the floor. Live through the meeting's event stream (GET /api/events/{id}/live) plus the staff view
// (GET /api/events/{id}/staff-view: duties, slides, pending questions, restrictions, chat with handles).
//
// Invariants: the page shows only the controls the signed-in user's duties allow (the API checks again);
// every control is a native button, link or select; results are said through the polite announcer, failures
// in words in the alert region; the floor's countdown ticks on the server's clock and is a timer (not read
// aloud every second) — its start and its end are said once; live updates never move keyboard focus.

import {
  FLOOR_CHOICES,
  SLOW_MODE_CHOICES,
  abilities,
  allowedTransitions,
  clock,
  emptyModel,
  pendingQuestions,
  reduce,
  remainingSeconds,
  staffViewStale,
  stepItem,
  stepSlide,
} from './console-state.js';
import { button, renderList, startStaffPage, timeOfDay } from './console-common.js';
import { getJSON } from './api.js';
import { AudioControls } from './audio-controls.js';
import { StageAudio } from './stage-audio.js';

const doc = document;
const eventId = doc.body.dataset.eventId;
const page = await startStaffPage(doc);
const { i18n, announcer, write, act, el } = page;
const $ = (id) => doc.getElementById(id);
const base = `/api/events/${eventId}`;

let model = emptyModel();
let can = abilities(null);
let source = null;
let refreshing = null;
let lastFloor = null;
let seenHands = null; // handles in the queue at the last render (null: nothing rendered yet, nothing to say)
let seenPending = null;

const say = (key, vars) => announcer.say(i18n.t(key, vars));
const post = (path, body, method = 'POST') => write(base + path, { method, body });

function fillSelect(select, values, label) {
  select.replaceChildren(...values.map((value) => el('option', { value: String(value) }, label(value))));
}

fillSelect($('floor-seconds'), FLOOR_CHOICES, (s) => i18n.t('console.floor.minutes', { n: s / 60 }));
$('floor-seconds').value = '180';
fillSelect($('slow-mode'), SLOW_MODE_CHOICES, (s) => (s ? i18n.t('console.chat.slowSeconds', { n: s }) : i18n.t('console.chat.slowOff')));

// --- data ----------------------------------------------------------------------------------------------------

async function refreshStaffView() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const view = await getJSON(`${base}/staff-view`);
      model = reduce(model, 'staff-view', view);
      if (!model.live) model = reduce(model, 'state', liveFromView(view), Date.now());
      render();
    } catch (error) {
      page.showError(error);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Until the stream's first `state` arrives, the staff view stands in for it (public questions only). */
function liveFromView(view) {
  const questions = (view.questions ?? []).filter((q) => ['approved', 'answering', 'answered'].includes(q.state));
  const pending = (view.questions ?? []).filter((q) => q.state === 'pending').length;
  return { ...view, questions, pending, now: undefined };
}

function connect() {
  disconnect();
  source = new EventSource(`${base}/live`);
  const on = (type) =>
    source.addEventListener(type, (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      model = reduce(model, type, data);
      if (type === 'state' && staffViewStale(model)) refreshStaffView();
      render();
    });
  for (const type of ['state', 'caption', 'chat', 'chat_deleted', 'restrictions']) on(type);
  source.addEventListener('deleted', () => {
    // The meeting was deleted: its stream ends here, and reconnecting would only find it gone.
    disconnect();
    $('live-status').textContent = i18n.t('console.live.deleted');
    page.showError(i18n.t('console.live.deleted'));
  });
  source.addEventListener('open', () => ($('live-status').textContent = i18n.t('console.live.connected')));
  source.addEventListener('error', () => {
    const closed = source && source.readyState === EventSource.CLOSED;
    $('live-status').textContent = i18n.t(closed ? 'console.live.closed' : 'console.live.reconnecting');
  });
}

function disconnect() {
  source?.close();
  source = null;
}

// The stage audio: the chair's (or a host's) microphone, and listening to whoever has the floor. The socket
// opens once someone is signed in (the server reads the staff session from the cookie and says canSpeak).
const audio = new StageAudio({ eventId, storage: safeStorage() });
const audioControls = new AudioControls(doc, {
  i18n, announcer, audio, container: $('console-audio'), idPrefix: 'console-audio', labelledBy: 'audio-section-heading',
});

page.session.onChange((user) => {
  $('console-body').hidden = !user;
  if (!user) {
    disconnect();
    audio.disconnect();
    audio.stopListening();
    model = emptyModel();
    return;
  }
  refreshStaffView();
  connect();
  audio.disconnect(); // a new identity: the server reads it at the upgrade
  audio.connect();
});

function safeStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

// --- rendering -------------------------------------------------------------------------------------------------

const stateName = (state) => i18n.t(`console.stateName.${state}`);
const itemTitle = (item) => i18n.pickWithLang(item?.title);
const slides = () => model.staffView?.slides ?? [];

function langSpan(picked) {
  const span = el('span', {}, picked.text);
  if (picked.lang !== i18n.lang) span.lang = picked.lang;
  return span;
}

function render() {
  const live = model.live;
  if (!live) return;
  const user = page.session.user;
  can = abilities(user, model.staffView?.staff, model.staffView?.duties ?? []);
  for (const node of doc.querySelectorAll('.chair-only')) node.hidden = !can.chair;
  for (const node of doc.querySelectorAll('.moderator-only')) node.hidden = !can.moderator;
  renderState(live);
  renderRecording(live);
  renderAgenda(live);
  renderSlides(live);
  renderFloor(live);
  renderQuestions(live);
  renderChat();
  sayArrivals(live);
  doc.body.dataset.state = 'ready';
}

/** New raised hands and questions waiting are said once (not what was there when the console opened). */
function sayArrivals(live) {
  const hands = live.hands ?? [];
  if (seenHands) {
    for (const hand of hands) if (!seenHands.has(hand.handle)) say('console.hands.raised', { name: hand.name });
  }
  seenHands = new Set(hands.map((hand) => hand.handle));
  const pending = live.pending ?? 0;
  if (seenPending != null && pending > seenPending && can.moderator) say('console.questions.arrived', { n: pending });
  seenPending = pending;
}

function renderState(live) {
  $('state-text').textContent = i18n.t('console.state.now', { state: stateName(live.state) });
  const duties = ['chair', 'moderator', 'captioner'].filter((duty) => can[duty]).map((duty) => i18n.t(`console.duty.${duty}`));
  $('duties-text').textContent = duties.length ? i18n.t('console.duties.yours', { duties: duties.join(', ') }) : i18n.t('console.duties.none');
  const targets = allowedTransitions(live.state);
  renderList($('state-actions'), targets, (to) =>
    button(doc, i18n.t(`console.state.to.${to}`), `state:${to}`, () => changeState(to), to === 'ended' ? 'button button-danger' : 'button'),
  );
  if (!targets.length) $('state-actions').replaceChildren(el('p', { className: 'console-note' }, i18n.t('console.state.final')));
}

async function changeState(to) {
  if ((to === 'ended' || to === 'archived') && !confirm(i18n.t(`console.state.confirm.${to}`))) return;
  const done = await act(() => post('/state', { to }), i18n.t(`console.state.done.${to}`));
  if (done) focusAfterChange(to);
}

/**
 * Where the chair goes next: after the start, to the agenda (the next thing they run); after the end or the
 * archive, to the state line saying so — never onto the next (destructive) state button that took the place of
 * the one pressed.
 */
function focusAfterChange(to) {
  const target = to === 'live' ? $('agenda-heading') : $('state-text');
  if (to !== 'live') target.textContent = i18n.t('console.state.now', { state: stateName(to) }); // ahead of the stream
  target.tabIndex = -1;
  target.focus();
}

/** Recording: a switch for whoever chairs, only while live, pressed as the meeting's live state says. */
function renderRecording(live) {
  const on = Boolean(live.recording);
  $('recording-area').hidden = !(can.chair && live.state === 'live');
  const toggle = $('recording-toggle');
  toggle.setAttribute('aria-pressed', String(on));
  toggle.dataset.on = String(on);
  $('recording-note').textContent = i18n.t(on ? 'console.recording.onNote' : 'console.recording.offNote');
  const hint = live.state === 'live' ? 'audio.console.hint' : ['ended', 'archived'].includes(live.state) ? 'audio.console.hintEnded' : 'audio.console.hintBefore';
  $('audio-hint').textContent = i18n.t(hint);
  audio.followMeeting(live); // the indicator (and its announcement) follows the meeting, and its end closes the audio
}

$('recording-toggle').addEventListener('click', async (event) => {
  const on = event.currentTarget.getAttribute('aria-pressed') !== 'true';
  const after = await act(() => post('/recording', { on }));
  // The answer is the event: shown (and said, by the audio card) now, not when the stream catches up.
  if (after && model.live) {
    model = { ...model, live: { ...model.live, recording: Boolean(after.recording) } };
    render();
  }
});

function renderAgenda(live) {
  const agenda = live.agenda ?? [];
  const current = live.currentItem;
  if (current == null || !agenda[current]) {
    $('agenda-current').textContent = agenda.length ? i18n.t('console.agenda.noneYet') : i18n.t('console.agenda.empty');
  } else {
    $('agenda-current').replaceChildren(i18n.t('console.agenda.current', { n: current + 1, count: agenda.length }), ' ', langSpan(itemTitle(agenda[current])));
  }
  setAvailable($('item-prev'), stepItem(current, agenda.length, -1) != null);
  setAvailable($('item-next'), stepItem(current, agenda.length, 1) != null);
  setAvailable($('item-none'), current != null);
  renderList($('agenda-list'), agenda.map((item, index) => ({ index, title: item.title, current: index === current, chair: can.chair })), (item) => {
    const li = el('li', {}, langSpan(itemTitle(item)));
    if (item.current) {
      li.setAttribute('aria-current', 'step');
      li.append(' ', el('strong', {}, i18n.t('console.agenda.nowMark')));
    }
    if (item.chair && !item.current) {
      li.append(' ', button(doc, i18n.t('console.agenda.jump', { n: item.index + 1 }), `item:${item.index}`, () => goToItem(item.index)));
    }
    return li;
  });
}

function setAvailable(control, available) {
  control.setAttribute('aria-disabled', String(!available));
}

function available(control) {
  return control.getAttribute('aria-disabled') !== 'true';
}

async function goToItem(index) {
  const agenda = model.live?.agenda ?? [];
  const done = index == null ? i18n.t('console.agenda.doneNone') : i18n.t('console.agenda.done', { n: index + 1, title: itemTitle(agenda[index]).text });
  await act(() => post('/item', { index }), done);
}

$('item-next').addEventListener('click', (event) => {
  if (!available(event.currentTarget)) return say('console.agenda.atEnd');
  goToItem(stepItem(model.live.currentItem, model.live.agenda.length, 1));
});
$('item-prev').addEventListener('click', (event) => {
  if (!available(event.currentTarget)) return say('console.agenda.atStart');
  goToItem(stepItem(model.live.currentItem, model.live.agenda.length, -1));
});
$('item-none').addEventListener('click', (event) => available(event.currentTarget) && goToItem(null));

function renderSlides(live) {
  const list = slides();
  const shown = live.slide?.id ?? null;
  const position = list.findIndex((slide) => slide.id === shown);
  if (shown == null) $('slide-current').textContent = list.length ? i18n.t('console.slides.noneShown') : i18n.t('console.slides.none');
  else $('slide-current').replaceChildren(i18n.t('console.slides.shown', { n: position + 1, count: list.length }), ' ', langSpan(i18n.pickWithLang(live.slide.alt)));
  $('slide-actions').hidden = !can.chair || list.length === 0;
  setAvailable($('slide-prev'), stepSlide(list, shown, -1) != null);
  setAvailable($('slide-next'), stepSlide(list, shown, 1) != null);
  setAvailable($('slide-hide'), shown != null);
  renderList($('slide-list'), list.map((slide, index) => ({ ...slide, index, shown: slide.id === shown, chair: can.chair })), (slide) => {
    const alt = i18n.pickWithLang(slide.alt);
    const img = el('img', { src: slide.url, alt: alt.text, width: 160, height: Math.round((160 * slide.height) / Math.max(1, slide.width)), loading: 'lazy' });
    if (alt.lang !== i18n.lang) img.lang = alt.lang;
    const li = el('li', { className: 'slide-row' }, img, el('span', {}, i18n.t('console.slides.number', { n: slide.index + 1 })));
    if (slide.shown) {
      li.setAttribute('aria-current', 'true');
      li.append(' ', el('strong', {}, i18n.t('console.slides.shownMark')));
    } else if (slide.chair) {
      li.append(' ', button(doc, i18n.t('console.slides.show', { n: slide.index + 1 }), `slide:${slide.id}`, () => showSlide(slide.id)));
    }
    return li;
  });
}

async function showSlide(slideId) {
  const index = slides().findIndex((slide) => slide.id === slideId);
  await act(() => post('/slide', { slideId }), slideId == null ? i18n.t('console.slides.hidden') : i18n.t('console.slides.done', { n: index + 1 }));
}

$('slide-next').addEventListener('click', (event) => available(event.currentTarget) && showSlide(stepSlide(slides(), model.live.slide?.id ?? null, 1)));
$('slide-prev').addEventListener('click', (event) => available(event.currentTarget) && showSlide(stepSlide(slides(), model.live.slide?.id ?? null, -1)));
$('slide-hide').addEventListener('click', (event) => available(event.currentTarget) && showSlide(null));

function renderFloor(live) {
  const floor = live.floor;
  if (floor) {
    $('floor-text').textContent = i18n.t('console.floor.has', { name: floor.name, limit: clock(floor.seconds) });
    if (!lastFloor || lastFloor.handle !== floor.handle || lastFloor.until !== floor.until) {
      say('console.floor.given', { name: floor.name, limit: clock(floor.seconds) });
    }
  } else {
    $('floor-text').textContent = i18n.t('console.floor.nobody');
    if (lastFloor) say('console.floor.ended', { name: lastFloor.name });
  }
  lastFloor = floor ? { ...floor } : null;
  setAvailable($('floor-back'), Boolean(floor));
  const hands = live.hands ?? [];
  setAvailable($('floor-first'), hands.length > 0);
  tick();
  $('hands-empty').hidden = hands.length > 0;
  renderList($('hands-list'), hands.map((hand) => ({ ...hand, chair: can.chair })), (hand) => {
    const li = el('li', {}, el('span', { className: 'console-name' }, hand.name));
    if (hand.topic) li.append(' — ', el('span', {}, hand.topic));
    if (hand.chair) li.append(' ', button(doc, i18n.t('console.hands.give', { name: hand.name }), `hand:${hand.handle}`, () => giveFloor(hand)));
    return li;
  });
}

function tick() {
  const floor = model.live?.floor;
  const clockLine = $('floor-clock');
  clockLine.hidden = !floor;
  if (floor) clockLine.textContent = i18n.t('console.floor.left', { time: clock(remainingSeconds(floor, Date.now(), model.skew)) });
}
setInterval(tick, 1000);

async function giveFloor(hand) {
  const seconds = Number($('floor-seconds').value);
  await act(() => post('/floor', { handle: hand.handle, seconds }));
}

$('floor-first').addEventListener('click', (event) => {
  const first = model.live?.hands?.[0];
  if (!available(event.currentTarget) || !first) return say('console.hands.empty');
  giveFloor(first);
});
$('floor-back').addEventListener('click', (event) => {
  if (!available(event.currentTarget)) return say('console.floor.nobody');
  act(() => post('/floor', undefined, 'DELETE'));
});

function renderQuestions(live) {
  const pending = pendingQuestions(model);
  $('pending-empty').hidden = pending.length > 0;
  renderList($('pending-list'), pending.map((q) => ({ id: q.id, name: q.name, text: q.text, mod: can.moderator })), (q) => {
    const li = el('li', {}, el('p', { className: 'console-quote' }, q.text), el('p', { className: 'console-note' }, i18n.t('console.questions.by', { name: q.name })));
    if (q.mod) {
      li.append(
        el(
          'p',
          { className: 'console-actions' },
          button(doc, i18n.t('console.questions.approve'), `q:${q.id}:approve`, () => review(q, 'approved')),
          button(doc, i18n.t('console.questions.reject'), `q:${q.id}:reject`, () => review(q, 'rejected'), 'button button-small button-quiet'),
        ),
      );
    }
    return li;
  });
  const shown = live.questions ?? [];
  $('approved-empty').hidden = shown.length > 0;
  renderList($('approved-list'), shown.map((q) => ({ ...q, chair: can.chair, mod: can.moderator })), (q) => {
    const li = el(
      'li',
      {},
      el('p', { className: 'console-quote' }, q.text),
      el('p', { className: 'console-note' }, i18n.t('console.questions.meta', { name: q.name, supports: q.supports, state: i18n.t(`console.questionState.${q.state}`) })),
    );
    if (q.state === 'answering') li.setAttribute('aria-current', 'true');
    const actions = el('p', { className: 'console-actions' });
    if (q.chair && q.state === 'approved') actions.append(button(doc, i18n.t('console.questions.answering'), `q:${q.id}:answering`, () => answering(q)));
    if (q.mod) actions.append(button(doc, i18n.t('console.questions.delete'), `q:${q.id}:delete`, () => deleteQuestion(q), 'button button-small button-danger'));
    if (actions.childNodes.length) li.append(actions);
    return li;
  });
}

async function review(question, state) {
  await act(() => post(`/questions/${question.id}/review`, { state }), i18n.t(`console.questions.done.${state}`));
  refreshStaffView();
}

async function answering(question) {
  await act(() => post(`/questions/${question.id}/answering`, {}), i18n.t('console.questions.done.answering'));
}

async function deleteQuestion(question) {
  await act(() => post(`/questions/${question.id}`, undefined, 'DELETE'), i18n.t('console.questions.done.deleted'));
  refreshStaffView();
}

function renderChat() {
  const { muted, banned } = model.restrictions;
  $('chat-empty').hidden = model.chat.length > 0;
  renderList($('chat-list'), model.chat.map((line) => ({ ...line, muted: muted.includes(line.handle), banned: banned.includes(line.handle), mod: can.moderator })), (line) => {
    const li = el(
      'li',
      { className: 'chat-line' },
      el('p', { className: 'chat-meta' }, el('span', { className: 'chat-name' }, line.name), ' ', i18n.t('console.chat.handle', { handle: line.handle }), ' · ', timeOfDay(line.at, i18n.lang)),
      el('p', { className: 'chat-text' }, line.text),
    );
    if (line.mod) {
      const key = `chat:${line.id}`;
      li.append(
        el(
          'p',
          { className: 'console-actions' },
          button(doc, i18n.t('console.chat.delete'), `${key}:delete`, () => act(() => post(`/chat/${line.id}`, undefined, 'DELETE'), i18n.t('console.chat.deleted')), 'button button-small button-danger'),
          button(doc, i18n.t(line.muted ? 'console.mod.unmute' : 'console.mod.mute'), `${key}:mute`, () => moderate(line.muted ? 'unmute' : 'mute', line.handle)),
          button(doc, i18n.t('console.mod.remove'), `${key}:remove`, () => moderate('remove', line.handle)),
          button(doc, i18n.t(line.banned ? 'console.mod.unban' : 'console.mod.ban'), `${key}:ban`, () => moderate(line.banned ? 'unban' : 'ban', line.handle), 'button button-small button-danger'),
        ),
      );
    }
    return li;
  });
  const rows = [...banned.map((handle) => ({ handle, kind: 'banned' })), ...muted.map((handle) => ({ handle, kind: 'muted' }))];
  $('restricted-empty').hidden = rows.length > 0;
  renderList($('restricted-list'), rows.map((row) => ({ ...row, mod: can.moderator })), (row) => {
    const li = el('li', {}, i18n.t(`console.restricted.${row.kind}`, { handle: row.handle }));
    if (row.mod) {
      const action = row.kind === 'banned' ? 'unban' : 'unmute';
      li.append(' ', button(doc, i18n.t(`console.mod.${action}`), `r:${row.handle}:${action}`, () => moderate(action, row.handle)));
    }
    return li;
  });
  const slow = doc.getElementById('slow-mode');
  if (doc.activeElement !== slow && model.live) slow.value = String(model.live.slowMode ?? 0);
}

async function moderate(action, handle) {
  if ((action === 'ban' || action === 'remove') && !confirm(i18n.t(`console.mod.confirm.${action}`, { handle }))) return;
  await act(() => post('/moderation', { action, handle }), i18n.t(`console.mod.done.${action}`, { handle }));
  refreshStaffView();
}

$('slow-mode-apply').addEventListener('click', () => {
  const seconds = Number($('slow-mode').value);
  act(() => post('/slow-mode', { seconds }), seconds ? i18n.t('console.chat.slowDone', { n: seconds }) : i18n.t('console.chat.slowOffDone'));
});

if (eventId) await page.restore();
doc.body.dataset.state = page.session.user ? doc.body.dataset.state : 'ready';
window.civicSpace = { announcer, audio, audioControls };
