// EventPanel — a public meeting inside the scene page (`?event=<id>`), in 3D and text-only mode alike: the
// agenda with the current item, the slide shown (image and its text alternative), the floor with its
// countdown, the hand queue with Raise/Lower hand, written questions (send, support once, the one being
// answered), the meeting chat, and the captions as a log screen readers can review; first of all, the stage audio
// (audio-controls.js over stage-audio.js: Listen, volume, mute, who is speaking, the microphone of the floor
// holder). In 3D it adds the caption bar over the view and the wall display in the meeting's zone (event-wall.js,
// loaded then), which glows while someone speaks.
//
// Given the few things it needs: the page's i18n and announcer, the event id and `getName` (the resident's
// display name, as the room knows it). The markup is in web/scene.html (section#event, hidden until here).
// Invariants: everything other people wrote (names, questions, chat, captions) reaches the page only through
// textContent; the resident hears their OWN queue position change politely (event-live.js `ownChange`), and the
// meeting's big moments (state, current item, the floor, the question being answered) once each — never other
// residents' chat or hands one by one; captions are a role="log" (polite), never an assertive region; a removed
// or banned resident sees why in an alert, and every control of the meeting stops; a question is supported at
// most once per browser (kept in localStorage, and the server counts once per resident anyway).

import { AudioControls, loadAudioStyles } from './audio-controls.js';
import { loadStylesheet } from './stylesheet.js';
import { CaptionLog } from './event-captions.js';
import { EventLive, answering, floorRemaining, formatCountdown, ownChange } from './event-live.js';
import { MAX_CHAT_LENGTH, NAME_DEFAULT, validName } from './protocol.js';
import { StageAudio } from './stage-audio.js';

const CAPTION_BAR_LINES = 2;
const SUPPORTS_KEY = 'civicSpace.eventSupports.';

/** POST a JSON body same-origin; resolves to {ok, status, code, message, retryAfter, body} (never rejects). */
async function post(url, body) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    const error = data?.error ?? {};
    const retryAfter = Number(data?.retryAfter ?? error.retryAfter ?? response.headers.get('Retry-After')) || 0;
    return { ok: response.ok, status: response.status, code: error.code ?? (response.ok ? null : `http_${response.status}`), message: error.message ?? '', retryAfter, body: data };
  } catch {
    return { ok: false, status: 0, code: 'network_error', message: '', retryAfter: 0, body: null };
  }
}

export class EventPanel {
  /**
   * @param {Document} doc
   * @param {{i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer, eventId: string,
   *          getName?: () => string | null, storage?: Storage | null, live?: EventLive}} options
   */
  constructor(doc, { i18n, announcer, eventId, getName = () => null, storage = safeStorage(), live = null }) {
    Object.assign(this, { doc, i18n, announcer, eventId, getName, storage });
    const byId = (id) => doc.getElementById(id);
    this.el = {
      section: byId('event'), name: byId('event-name'), state: byId('event-panel-state'), connection: byId('event-connection'),
      removed: byId('event-removed'), removedTitle: byId('event-removed-title'), removedText: byId('event-removed-text'),
      parts: byId('event-live-parts'), agenda: byId('event-agenda'), slide: byId('event-slide'), slideImage: byId('event-slide-image'),
      slideCaption: byId('event-slide-caption'), noSlide: byId('event-no-slide'), floor: byId('event-floor'), countdown: byId('event-countdown'),
      hands: byId('event-hands'), handsEmpty: byId('event-hands-empty'), handsCount: byId('event-hands-count'), handForm: byId('hand-form'),
      handTopic: byId('hand-topic'), handButton: byId('hand-button'), handPosition: byId('hand-position'), handError: byId('hand-error'),
      questions: byId('event-questions'), questionsEmpty: byId('event-questions-empty'), questionForm: byId('question-form'),
      questionInput: byId('question-input'), questionError: byId('question-error'), questionNote: byId('question-note'),
      chat: byId('event-chat'), chatEmpty: byId('event-chat-empty'), chatForm: byId('event-chat-form'), chatInput: byId('event-chat-input'),
      chatNote: byId('event-chat-note'), chatError: byId('event-chat-error'), captionBar: byId('caption-bar'),
      pageLink: byId('event-page-link'), captionsLink: byId('event-captions-link'),
    };
    const base = `/events/${encodeURIComponent(eventId)}`;
    this.el.pageLink.href = base;
    this.el.captionsLink.href = `${base}/captions`;
    this.api = `/api${base}`;
    this.captions = new CaptionLog(byId('event-captions'), byId('event-captions-lines'));
    this.supported = this.loadSupported();
    this.slowUntil = 0;
    this.wall = null;
    loadStylesheet(doc, '/static/css/events.css').then(() => {
      this.el.section.hidden = false; // shown styled: no flash of an unstyled panel
    });
    // The meeting first: in text mode the places and tour were moved up to the description; the meeting goes above.
    byId('about')?.after(this.el.section);
    this.el.chatInput.maxLength = MAX_CHAT_LENGTH;
    this.wire();
    this.setUpAudio();
    this.live = live ?? new EventLive(eventId);
    this.live.on('change', (change) => this.render(change));
    this.timer = setInterval(() => this.tick(), 1000);
    this.live.start();
  }

  name() {
    return validName(this.getName()) || NAME_DEFAULT;
  }

  /** The stage audio (listen, volume, who speaks, the microphone of whoever holds the floor), first in the meeting's parts. */
  setUpAudio() {
    const doc = this.doc;
    const container = doc.createElement('div');
    container.id = 'event-audio';
    container.className = 'event-audio';
    this.el.parts.prepend(container);
    this.audio = new StageAudio({ eventId: this.eventId, storage: this.storage });
    this.audioControls = new AudioControls(doc, {
      i18n: this.i18n,
      announcer: this.announcer,
      audio: this.audio,
      container,
      idPrefix: 'event-audio',
      getHandle: () => this.live?.state.me.handle ?? null,
      storage: this.storage,
      onSpeaker: (speaker) => this.wall?.setSpeaker(speaker),
      sayWhenAllowed: false, // said with "You have the floor" (one announcement, not two racing for the region)
    });
    loadAudioStyles(doc);
    this.audioControls.resumeIfWanted();
  }

  /**
   * The floor holder needs the audio socket to speak, listening or not: it says when this page may. Once the floor
   * is someone else's, a page that does not listen closes it again (no audio it would drop); with the microphone
   * still on it waits for the server's word, which cuts the microphone off and says why.
   */
  syncAudio(state) {
    const floor = state.event?.floor;
    const mine = Boolean(floor && floor.handle && floor.handle === state.me.handle);
    const audio = this.audio.state;
    if (mine && audio.status === 'idle') this.audio.connect();
    else if (!mine && !audio.listening && !audio.micOn && !['idle', 'closed'].includes(audio.status)) this.audio.disconnect();
  }

  // --- actions ------------------------------------------------------------------------------------------------

  wire() {
    const { handForm, questionForm, chatForm } = this.el;
    handForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.toggleHand();
    });
    questionForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.askQuestion();
    });
    chatForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.sendChat();
    });
    this.el.questions.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-support]');
      if (button) this.support(Number(button.dataset.support), button);
    });
  }

  async toggleHand() {
    const raised = this.live.state.me.hand === null;
    const topic = this.el.handTopic.value.trim().slice(0, 120) || null;
    this.showError(this.el.handError, null);
    const result = await post(`${this.api}/hand`, { raised, name: this.name(), topic: raised ? topic : null });
    if (!result.ok) return this.refused(result, this.el.handError);
    if (raised) this.el.handTopic.value = '';
    // The stream's next state moves the queue and says the position; /me answers at once for this browser.
    await this.live.refreshMe();
  }

  async askQuestion() {
    const input = this.el.questionInput;
    const text = input.value.replace(/\s+/g, ' ').trim();
    if (!text) {
      this.showError(this.el.questionError, this.i18n.t('events.questionEmpty'), input);
      return;
    }
    this.showError(this.el.questionError, null, input);
    const result = await post(`${this.api}/questions`, { name: this.name(), text: text.slice(0, 500) });
    if (!result.ok) return this.refused(result, this.el.questionError, input);
    input.value = '';
    this.el.questionNote.textContent = this.i18n.t('events.questionSent');
    this.announcer.say(this.i18n.t('events.questionSent'));
  }

  async support(id, button) {
    if (this.supported.has(id)) return;
    button.setAttribute('aria-disabled', 'true');
    const result = await post(`${this.api}/questions/${id}/support`, {});
    if (!result.ok) {
      button.removeAttribute('aria-disabled');
      return this.refused(result, this.el.questionError);
    }
    this.supported.add(id);
    this.saveSupported();
    this.renderQuestions(this.live.state);
    this.announcer.say(this.i18n.t(result.body?.counted === false ? 'events.supportedAlready' : 'events.supportThanks'));
  }

  async sendChat() {
    const input = this.el.chatInput;
    const text = input.value.trim();
    if (!text) return;
    const wait = Math.ceil(this.slowUntil - Date.now() / 1000);
    if (wait > 0) {
      this.showError(this.el.chatError, this.i18n.t('events.slowWait', { seconds: wait }), input);
      return;
    }
    this.showError(this.el.chatError, null, input);
    const result = await post(`${this.api}/chat`, { name: this.name(), text: text.slice(0, MAX_CHAT_LENGTH) });
    if (!result.ok) return this.refused(result, this.el.chatError, input);
    input.value = '';
    const slow = this.live.state.event?.slowMode || 0;
    if (slow) this.slowUntil = Date.now() / 1000 + slow;
  }

  /** Explains a refused action where it was made (and stops everything when the resident was removed). */
  refused(result, errorElement, input = null) {
    if (result.code === 'banned') {
      this.live.refreshMe();
      return;
    }
    if (result.code === 'slow_mode') {
      this.slowUntil = Date.now() / 1000 + (result.retryAfter || this.live.state.event?.slowMode || 1);
      this.showError(errorElement, this.i18n.t('events.slowWait', { seconds: result.retryAfter || this.live.state.event?.slowMode || 1 }), input);
      return;
    }
    const known = ['muted', 'event_not_open', 'cross_origin', 'too_many_requests', 'network_error', 'invalid_field', 'event_not_found'];
    const key = known.includes(result.code) ? `events.error.${result.code}` : 'events.error.other';
    this.showError(errorElement, this.i18n.t(key, { code: result.code }), input);
  }

  showError(element, text, input = null) {
    element.hidden = !text;
    element.textContent = text || '';
    if (input) {
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    if (text) this.announcer.say(text);
  }

  // --- what the stream says -------------------------------------------------------------------------------------

  render({ state, before }) {
    if (state.removed) return this.showRemoved(state.removed.banned ? 'banned' : 'removed');
    if (state.deleted) return this.showRemoved('deleted');
    this.renderConnection(state);
    const event = state.event;
    if (!event) return;
    const t = this.i18n;
    if (event.title) t.setText(this.el.name, event.title);
    this.el.state.dataset.state = event.state;
    this.el.state.textContent = t.t(`events.state.${event.state}`);
    this.renderAgenda(event);
    this.renderSlide(event);
    this.renderFloor(state);
    this.audio.followMeeting(event); // the recording indicator, and the audio's end with the meeting's
    this.syncAudio(state);
    this.renderHands(state);
    this.renderQuestions(state);
    this.renderChat(state);
    this.captions.update(state.captions);
    this.renderCaptionBar(state);
    this.wall?.update(state);
    this.announce(before, state);
  }

  renderConnection(state) {
    let key = { connecting: 'events.connecting', reconnecting: 'events.reconnecting', closed: 'events.streamClosed' }[state.status];
    if (state.status === 'closed' && !state.event) key = 'events.error.event_not_found'; // refused from the start
    this.el.connection.textContent = key ? this.i18n.t(key) : '';
  }

  renderAgenda(event) {
    const doc = this.doc;
    const index = event.state === 'live' ? event.currentItem : null;
    const items = event.agenda.map((item, i) => {
      const li = doc.createElement('li');
      li.className = 'event-agenda-item';
      const title = doc.createElement('span');
      const picked = this.i18n.setText(title, item.title);
      if (!picked.text) title.textContent = this.i18n.t('events.untitledItem', { number: i + 1 });
      li.append(title);
      if (i === index) {
        li.setAttribute('aria-current', 'step');
        const now = doc.createElement('strong');
        now.className = 'agenda-now-tag';
        now.textContent = ` — ${this.i18n.t('events.nowShort')}`;
        li.append(now);
      }
      return li;
    });
    this.el.agenda.replaceChildren(...items);
  }

  renderSlide(event) {
    const slide = event.slide;
    this.el.slide.hidden = !slide;
    this.el.noSlide.hidden = Boolean(slide);
    if (!slide) {
      this.el.slideImage.removeAttribute('src');
      return;
    }
    const alt = this.i18n.pickWithLang(slide.alt);
    if (this.el.slideImage.dataset.id !== String(slide.id)) {
      this.el.slideImage.dataset.id = String(slide.id);
      if (slide.width && slide.height) {
        this.el.slideImage.width = slide.width;
        this.el.slideImage.height = slide.height;
      }
      this.el.slideImage.src = slide.url;
    }
    this.el.slideImage.alt = alt.text;
    if (alt.lang !== this.i18n.lang) this.el.slideImage.lang = alt.lang;
    else this.el.slideImage.removeAttribute('lang');
    this.el.slideCaption.textContent = alt.text;
    if (alt.lang !== this.i18n.lang) this.el.slideCaption.lang = alt.lang;
    else this.el.slideCaption.removeAttribute('lang');
  }

  renderFloor(state) {
    const floor = state.event.floor;
    const mine = floor && floor.handle === state.me.handle;
    this.el.floor.textContent = floor
      ? this.i18n.t(mine ? 'events.floorYou' : 'events.floorWho', { name: floor.name })
      : this.i18n.t('events.floorNobody');
    this.el.floor.dataset.mine = String(Boolean(mine));
    this.tick();
  }

  /** Once a second: the countdown of the floor (by the server's clock) and the end of slow mode. */
  tick() {
    const state = this.live?.state;
    const floor = state?.event?.floor;
    const left = floorRemaining(floor, Date.now() / 1000, state?.clockOffset ?? 0);
    this.el.countdown.hidden = left === null;
    if (left !== null) this.el.countdown.textContent = this.i18n.t('events.floorLeft', { time: formatCountdown(left) });
    this.renderChatNote(state);
  }

  renderHands(state) {
    const { hands } = state.event;
    const doc = this.doc;
    this.el.hands.replaceChildren(
      ...hands.map((hand) => {
        const li = doc.createElement('li');
        li.textContent = hand.name;
        if (hand.handle === state.me.handle) {
          li.className = 'event-hand-self';
          const you = doc.createElement('span');
          you.className = 'roster-you';
          you.textContent = ` (${this.i18n.t('events.you')})`;
          li.append(you);
        }
        return li;
      }),
    );
    this.el.hands.hidden = hands.length === 0;
    this.el.handsEmpty.hidden = hands.length > 0;
    this.el.handsCount.textContent = String(hands.length);
    const raised = state.me.hand !== null;
    this.el.handButton.textContent = this.i18n.t(raised ? 'events.lowerHand' : 'events.raiseHand');
    this.el.handTopic.readOnly = raised; // not disabled: the field keeps the focus of whoever pressed Enter in it
    const open = ['open', 'live'].includes(state.event.state);
    this.el.handButton.setAttribute('aria-disabled', String(!open));
    this.el.handPosition.textContent = raised
      ? this.i18n.t('events.position', { position: state.me.hand, count: hands.length })
      : open ? this.i18n.t('events.handHint') : this.i18n.t(['ended', 'archived'].includes(state.event.state) ? 'events.handsClosed' : 'events.notOpen');
  }

  renderQuestions(state) {
    const doc = this.doc;
    const questions = state.event.questions;
    // Rebuilt on every change of the meeting: a Support button that had focus gets it back.
    const focused = doc.activeElement?.closest?.('#event-questions button[data-support]')?.dataset.support;
    this.el.questions.replaceChildren(
      ...questions.map((q) => {
        const li = doc.createElement('li');
        li.className = 'event-question';
        li.dataset.state = q.state;
        if (q.state === 'answering') li.setAttribute('aria-current', 'true');
        const text = doc.createElement('p');
        text.className = 'event-question-text';
        text.textContent = q.text;
        const meta = doc.createElement('p');
        meta.className = 'event-question-meta';
        meta.textContent = `${q.name} · ${this.i18n.t('events.supports', { count: q.supports ?? 0 })}`;
        li.append(text, meta);
        if (q.state !== 'approved') {
          const tag = doc.createElement('p');
          tag.className = 'event-question-tag';
          tag.textContent = this.i18n.t(q.state === 'answering' ? 'events.answering' : 'events.answered');
          li.prepend(tag);
        } else {
          const button = doc.createElement('button');
          button.type = 'button';
          button.className = 'button button-small button-quiet';
          button.dataset.support = String(q.id);
          const done = this.supported.has(q.id);
          button.textContent = this.i18n.t(done ? 'events.supported' : 'events.support');
          if (done) button.setAttribute('aria-disabled', 'true');
          button.setAttribute('aria-describedby', `event-question-${q.id}`);
          text.id = `event-question-${q.id}`;
          li.append(button);
        }
        return li;
      }),
    );
    if (focused) this.el.questions.querySelector(`button[data-support="${focused}"]`)?.focus();
    this.el.questions.hidden = questions.length === 0;
    this.el.questionsEmpty.hidden = questions.length > 0;
  }

  renderChat(state) {
    const doc = this.doc;
    const shown = new Map([...this.el.chat.children].map((li) => [Number(li.dataset.id), li]));
    const wanted = new Set(state.chat.map((line) => line.id));
    for (const [id, li] of shown) if (!wanted.has(id)) li.remove(); // deleted by a moderator: gone for everyone
    for (const line of state.chat) {
      if (shown.has(line.id)) continue;
      const li = doc.createElement('li');
      li.className = line.handle === state.me.handle ? 'chat-line chat-line-self' : 'chat-line';
      li.dataset.id = String(line.id);
      const meta = doc.createElement('p');
      meta.className = 'chat-meta';
      const name = doc.createElement('span');
      name.className = 'chat-name';
      name.textContent = line.name;
      meta.append(name);
      const text = doc.createElement('p');
      text.className = 'chat-text';
      text.textContent = line.text;
      li.append(meta, text);
      this.el.chat.append(li);
    }
    this.el.chatEmpty.hidden = state.chat.length > 0;
    this.renderChatNote(state);
  }

  renderChatNote(state) {
    if (!state?.event) return;
    const wait = Math.ceil(this.slowUntil - Date.now() / 1000);
    let note = '';
    if (state.me.muted) note = this.i18n.t('events.mutedNote');
    else if (wait > 0) note = this.i18n.t('events.slowWait', { seconds: wait });
    else if (state.event.slowMode) note = this.i18n.t('events.slowNote', { seconds: state.event.slowMode });
    if (this.el.chatNote.textContent !== note) this.el.chatNote.textContent = note;
    this.el.chatNote.hidden = !note;
    const muted = String(Boolean(state.me.muted));
    if (this.el.chatInput.getAttribute('aria-disabled') !== muted) this.el.chatInput.setAttribute('aria-disabled', muted);
    this.el.chatInput.readOnly = state.me.muted;
  }

  renderCaptionBar(state) {
    const bar = this.el.captionBar;
    if (!bar || !this.in3d) return;
    const lines = state.captions.slice(-CAPTION_BAR_LINES);
    bar.hidden = lines.length === 0;
    bar.replaceChildren(
      ...lines.map((line) => {
        const p = this.doc.createElement('p');
        p.textContent = line.text;
        return p;
      }),
    );
  }

  /** The meeting's big moments, once each, politely; and the resident's own place in the queue. */
  announce(before, state) {
    const t = this.i18n;
    const was = before.event;
    const now = state.event;
    if (!was) return; // the first snapshot: the panel shows it, nothing to announce yet
    const messages = [];
    if (was.state !== now.state) messages.push(t.t(`events.announce.${now.state}`));
    if (now.state === 'live' && now.currentItem !== null && (was.currentItem !== now.currentItem || was.state !== 'live')) {
      const item = now.agenda[now.currentItem];
      if (item) messages.push(`${t.t('events.announceItem')} ${t.pick(item.title)}`);
    }
    if ((was.slide?.id ?? null) !== (now.slide?.id ?? null) && now.slide) messages.push(t.t('events.announceSlide'));
    const floorWas = was.floor?.handle ?? null;
    const floorNow = now.floor?.handle ?? null;
    const own = ownChange(before, state);
    if (floorNow !== floorWas && floorNow && floorNow !== state.me.handle) messages.push(t.t('events.floorWho', { name: now.floor.name }));
    if (own) {
      const texts = {
        raised: () => t.t('events.ownRaised', { position: own.position }),
        moved: () => t.t('events.ownMoved', { position: own.position }),
        lowered: () => t.t('events.ownLowered'),
        floor: () => `${t.t('events.ownFloor', { time: formatCountdown(own.seconds ?? 0) })} ${t.t('audio.micHint')}`,
        floorEnded: () => t.t('events.ownFloorEnded'),
      };
      messages.push(texts[own.kind]());
    }
    const answeringNow = answering(state);
    const answeringWas = was.questions.find((q) => q.state === 'answering');
    if (answeringNow && answeringNow.id !== answeringWas?.id) messages.push(`${t.t('events.announceAnswering')} ${answeringNow.text}`);
    if (messages.length) this.announcer.say(messages);
  }

  /** The meeting is over for this browser: `why` is removed | banned | deleted. Everything stops. */
  showRemoved(why) {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.audio?.disconnect();
    this.audio?.stopListening();
    const hadFocus = this.el.parts.contains(this.doc.activeElement);
    this.el.parts.hidden = true;
    if (this.el.captionBar) this.el.captionBar.hidden = true;
    this.wall?.dispose();
    this.el.removedTitle.textContent = this.i18n.t(`events.${why}Title`);
    this.el.removedText.textContent = this.i18n.t(`events.${why}Text`);
    this.el.removed.hidden = false;
    this.el.connection.textContent = '';
    if (hadFocus) this.doc.getElementById('event-heading').focus(); // the controls are gone: not lost on <body>
    // Refused before the stream ever said which meeting this is (a banned resident reloading): its public record names it.
    if (why !== 'deleted' && !this.el.name.textContent) this.nameFromRecord();
  }

  async nameFromRecord() {
    const event = await this.fetchRecord();
    if (event?.title && !this.el.name.textContent) this.i18n.setText(this.el.name, event.title);
  }

  /** The meeting's public record (GET /api/events/{id}), or null when it cannot be read. */
  async fetchRecord() {
    try {
      const response = await fetch(this.api, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      return response.ok ? await response.json() : null;
    } catch {
      return null; // the callers do without (the message is clear without the name; no wall)
    }
  }

  // --- 3D --------------------------------------------------------------------------------------------------------

  /** The caption bar over the view and the wall display in the meeting's zone: `zone` when the address named it
   * (`?at=`), else the one of `zones` the meeting's public record names (a link without `at` still shows the wall). */
  async show3D({ scene, invalidate, zone, zones = [] }) {
    this.in3d = true;
    this.renderCaptionBar(this.live.state);
    if (!zone && !this.stopped) {
      const record = await this.fetchRecord();
      zone = zones.find((z) => z.id === record?.zone) || null;
    }
    if (!zone || this.stopped) return;
    const { EventWall } = await import('./event-wall.js');
    // What the wall shows, on the section for tests and scripts (the panel says the same in text).
    const onDraw = (text) => {
      this.el.section.dataset.wall = text;
    };
    this.wall = new EventWall({ scene, invalidate, zone, i18n: this.i18n, onDraw });
    this.wall.update(this.live.state);
    this.wall.setSpeaker(this.audio.state.speaker);
  }

  // --- the browser's memory of supports ---------------------------------------------------------------------------

  loadSupported() {
    try {
      const ids = JSON.parse(this.storage?.getItem(SUPPORTS_KEY + this.eventId) || '[]');
      return new Set(Array.isArray(ids) ? ids.filter(Number.isInteger) : []);
    } catch {
      return new Set();
    }
  }

  saveSupported() {
    try {
      this.storage?.setItem(SUPPORTS_KEY + this.eventId, JSON.stringify([...this.supported].slice(-500)));
    } catch {
      // private mode: the server still counts once
    }
  }
}

function safeStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
