// AudioControls — the stage audio's controls and indicators, built into a page's container for a StageAudio
// (stage-audio.js): Listen / Stop listening, the audio state ("audio is live", "audio blocked — press Listen",
// "reconnecting"), mute and volume, who is speaking, the recording indicator, and — for whoever may speak — the
// microphone toggle, its level and the push-to-talk option. Used by the meeting panel of the scene page (3D and
// text-only), the chair's console and the meeting's page.
//
// Invariants: native buttons, a checkbox and a range input only, each labelled; a change of speaker and a
// change of recording are said once, politely, by the page's announcer (the indicator is also in the page);
// push-to-talk holds Space only on the talk button itself (walking keeps Space everywhere else) and never
// leaves the microphone on once the key or pointer is released or the button loses focus; texts come from
// i18n (audio.* keys); everything a person wrote (names) goes in through textContent.

import { loadStylesheet } from './stylesheet.js';

const LISTEN_KEY = 'civicSpace.audioListening';

/** audio.css, once per page. */
export function loadAudioStyles(doc) {
  return loadStylesheet(doc, '/static/css/audio.css');
}

/** The state line's key for a StageAudio state. */
export function stateKey(state) {
  if (state.status === 'closed') return `audio.state.${state.closed || 'ended'}`;
  if (state.listening && state.blocked) return 'audio.state.blocked';
  if (state.status === 'reconnecting') return 'audio.state.reconnecting';
  if (!state.listening) return 'audio.state.idle';
  if (state.status === 'live') return 'audio.state.live';
  return 'audio.state.connecting';
}

/**
 * The speaker line's text ({key, vars}) and the announcement's. `me` is this page's own handle (a floor holder
 * reads "You are speaking"). Staff have no public name (the server sends ""): their duty names them.
 */
export function speakerLine(speaker, { micOn = false, me = null } = {}) {
  if (!speaker) return { key: micOn ? 'audio.speaker.you' : 'audio.speaker.nobody', announce: null, vars: {} };
  if (micOn || (me && speaker.handle === me)) return { key: 'audio.speaker.you', announce: null, vars: {} };
  if (!speaker.name) {
    const staff = speaker.role !== 'floor';
    return { key: `audio.speaker.${speaker.role}`, announce: staff ? `audio.announce.${speaker.role}` : null, vars: {} };
  }
  return { key: 'audio.speaker.named', announce: 'audio.announce.speaking', vars: { name: speaker.name } };
}

/** Whether a change of the recording indicator is said: not when it goes off because the meeting's audio ended. */
export function recordingNews(state, before) {
  if (state === before || state.recording === before.recording) return false;
  return state.recording || state.status !== 'closed';
}

export class AudioControls {
  /**
   * @param {Document} doc
   * @param {{i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer,
   *          audio: import('./stage-audio.js').StageAudio, container: HTMLElement, idPrefix?: string,
   *          headingLevel?: number, labelledBy?: string, getHandle?: () => string | null, storage?: Storage | null,
   *          onSpeaker?: (speaker: object | null) => void, sayWhenAllowed?: boolean}} options
   */
  constructor(doc, options) {
    const { i18n, announcer, audio, container, idPrefix = 'audio', headingLevel = 3, labelledBy = null } = options;
    // sayWhenAllowed: say "you may speak" when the server allows it (the scene panel says it with the floor instead).
    const { getHandle = () => null, storage = null, onSpeaker = () => {}, sayWhenAllowed = true } = options;
    this.sayWhenAllowed = sayWhenAllowed;
    Object.assign(this, { doc, i18n, announcer, audio, getHandle, storage, onSpeaker });
    this.p = idPrefix;
    this.build(container, headingLevel, labelledBy);
    this.lastSpeakerKey = null;
    this.ptt = false;
    audio.on('change', ({ state, before }) => this.render(state, before));
    audio.on('cutoff', ({ reason }) => this.cutOff(reason));
    audio.on('level', (level) => {
      this.el.level.value = Math.min(1, level * 4); // speech RMS rarely passes 0.25
    });
    audio.on('playback-error', () => this.note(this.el.state, 'audio.state.unsupported'));
    this.render(audio.state, audio.state);
  }

  /** The controls in `container`, under their own heading, or under the page's (`labelledBy`: its id). */
  build(container, headingLevel, labelledBy) {
    const { doc, i18n, p } = this;
    const el = (tag, props = {}, ...children) => {
      const node = doc.createElement(tag);
      for (const [key, value] of Object.entries(props)) {
        if (key === 'text') node.textContent = value;
        else if (key.startsWith('aria-') || key.startsWith('data-') || key === 'for') node.setAttribute(key, value);
        else node[key] = value;
      }
      node.append(...children);
      return node;
    };
    const t = (key, vars) => i18n.t(key, vars);
    const section = el(labelledBy ? 'div' : 'section', { className: 'audio-controls', id: `${p}-section` });
    if (!labelledBy) section.setAttribute('aria-labelledby', `${p}-heading`);
    const heading = labelledBy ? '' : el(`h${headingLevel}`, { id: `${p}-heading`, text: t('audio.heading') });
    const state = el('p', { id: `${p}-state`, className: 'audio-state', 'data-state': 'idle' });
    const listen = el('button', { id: `${p}-listen`, type: 'button', className: 'button button-small audio-listen', text: t('audio.listen') });
    const mute = el('button', { id: `${p}-mute`, type: 'button', className: 'button button-small button-quiet', 'aria-pressed': 'false', text: t('audio.mute') });
    const volume = el('input', { id: `${p}-volume`, type: 'range', min: '0', max: '100', step: '5', className: 'audio-volume' });
    volume.value = String(Math.round(this.audio.volume * 100));
    const volumeLabel = el('label', { for: `${p}-volume`, text: t('audio.volume') });
    const row = el('p', { className: 'audio-row' }, listen, ' ', mute, ' ', el('span', { className: 'audio-volume-field' }, volumeLabel, ' ', volume));
    const speaker = el('p', { id: `${p}-speaker`, className: 'audio-speaker', 'data-speaking': 'false' });
    const recording = el('p', { id: `${p}-recording`, className: 'audio-recording', hidden: true, text: t('audio.recording') });
    const mic = el('button', { id: `${p}-mic`, type: 'button', className: 'button audio-mic-button', 'aria-pressed': 'false', text: t('audio.mic') });
    const level = el('meter', { id: `${p}-level`, className: 'audio-level', min: 0, max: 1, low: 0.05, high: 0.8, optimum: 0.3, value: 0 });
    const levelLabel = el('label', { for: `${p}-level`, className: 'audio-level-label', text: t('audio.level') });
    const ptt = el('input', { id: `${p}-ptt`, type: 'checkbox' });
    const pttLabel = el('label', { for: `${p}-ptt`, text: t('audio.ptt') });
    const micNote = el('p', { id: `${p}-mic-note`, className: 'field-hint audio-mic-note' });
    mic.setAttribute('aria-describedby', micNote.id);
    const micArea = el(
      'div',
      { id: `${p}-mic-area`, className: 'audio-mic', hidden: true },
      el('p', { className: 'audio-row' }, mic, ' ', levelLabel, ' ', level),
      el('p', { className: 'audio-ptt' }, ptt, ' ', pttLabel),
      micNote,
    );
    section.append(heading, state, row, speaker, recording, micArea);
    section.stageAudio = this.audio; // for scripts and the browser tests: the StageAudio these controls drive
    container.append(section);
    this.el = { section, state, listen, mute, volume, speaker, recording, micArea, mic, level, ptt, micNote };
    this.wire();
  }

  wire() {
    const { listen, mute, volume, mic, ptt } = this.el;
    listen.addEventListener('click', () => this.toggleListening());
    mute.addEventListener('click', () => {
      const muted = mute.getAttribute('aria-pressed') !== 'true';
      mute.setAttribute('aria-pressed', String(muted));
      this.audio.setMuted(muted);
    });
    volume.addEventListener('input', () => {
      this.audio.setVolume(Number(volume.value) / 100);
      volume.setAttribute('aria-valuetext', this.i18n.t('audio.volumeValue', { percent: volume.value }));
    });
    volume.setAttribute('aria-valuetext', this.i18n.t('audio.volumeValue', { percent: volume.value }));
    ptt.addEventListener('change', () => {
      this.ptt = ptt.checked;
      if (this.ptt && this.audio.state.micOn) this.audio.setMic(false);
      this.renderMic(this.audio.state);
    });
    mic.addEventListener('click', () => {
      if (this.ptt) return; // held, not clicked
      this.setMic(!this.audio.state.micOn);
    });
    mic.addEventListener('keydown', (event) => {
      if (!this.ptt || (event.key !== ' ' && event.code !== 'Space')) return;
      event.preventDefault();
      event.stopPropagation(); // Space is this button's while it is held here
      if (!event.repeat) this.setMic(true);
    });
    mic.addEventListener('keyup', (event) => {
      if (!this.ptt || (event.key !== ' ' && event.code !== 'Space')) return;
      event.preventDefault();
      event.stopPropagation();
      this.setMic(false);
    });
    mic.addEventListener('pointerdown', (event) => {
      if (!this.ptt) return;
      mic.setPointerCapture?.(event.pointerId);
      this.setMic(true);
    });
    for (const type of ['pointerup', 'pointercancel', 'blur']) {
      mic.addEventListener(type, () => this.ptt && this.audio.state.micOn && this.setMic(false));
    }
  }

  /** Listens again when the resident was listening on their last visit (autoplay may still block it: then it says so). */
  resumeIfWanted() {
    if (this.storage?.getItem(LISTEN_KEY) === '1') this.audio.listenIfAllowed();
  }

  async toggleListening() {
    const state = this.audio.state;
    if (state.status === 'closed') {
      this.announcer.say(this.i18n.t(stateKey(state))); // nothing to hear any more: say why instead
      return;
    }
    if (state.listening && !state.blocked) {
      await this.audio.stopListening();
      this.remember(false);
      return;
    }
    this.remember(true);
    const playing = await this.audio.listen();
    if (playing) this.announcer.say(this.i18n.t('audio.state.live'));
  }

  remember(listening) {
    try {
      if (listening) this.storage?.setItem(LISTEN_KEY, '1');
      else this.storage?.removeItem(LISTEN_KEY);
    } catch {
      // private mode
    }
  }

  async setMic(on) {
    const now = await this.audio.setMic(on);
    if (on && now) this.announcer.say(this.i18n.t('audio.micLive'));
  }

  cutOff(reason) {
    const key = ['floor_taken', 'floor_expired', 'not_live'].includes(reason) ? `audio.cutoff.${reason}` : 'audio.cutoff.not_allowed';
    this.el.micNote.textContent = this.i18n.t(key);
    this.announcer.say(this.i18n.t(key));
  }

  note(element, key) {
    element.textContent = this.i18n.t(key);
  }

  render(state, before) {
    const t = this.i18n;
    const key = stateKey(state);
    this.el.state.textContent = t.t(key);
    this.el.state.dataset.state = key.split('.').pop();
    const closed = state.status === 'closed';
    const hearing = state.listening && !state.blocked && !closed; // closed: nothing to stop listening to
    this.el.listen.textContent = t.t(state.listening && state.blocked && !closed ? 'audio.pressToListen' : hearing ? 'audio.stopListening' : 'audio.listen');
    this.el.listen.setAttribute('aria-disabled', String(closed));
    this.el.listen.dataset.listening = String(hearing);
    this.el.section.dataset.listening = String(hearing);
    this.el.section.dataset.status = state.status;
    this.renderSpeaker(state, before);
    this.el.recording.hidden = !state.recording;
    if (recordingNews(state, before)) this.announcer.say(t.t(state.recording ? 'audio.recordingOn' : 'audio.recordingOff'));
    this.renderMic(state, before);
  }

  renderSpeaker(state, before) {
    const line = speakerLine(state.speaker, { micOn: state.micOn, me: this.getHandle() });
    this.el.speaker.textContent = this.i18n.t(line.key, line.vars);
    this.el.speaker.dataset.speaking = String(Boolean(state.speaker || state.micOn));
    this.el.section.dataset.speaker = state.speaker?.name ?? '';
    if (state.speaker !== before.speaker) this.onSpeaker(state.speaker);
    // Said once per person who starts speaking — not again after each pause of theirs (silence ends "speaking").
    const who = state.speaker ? `${state.speaker.role}:${state.speaker.handle ?? ''}:${state.speaker.name}` : null;
    if (who && who !== this.lastSpeakerKey && line.announce && state !== before) this.announcer.say(this.i18n.t(line.announce, line.vars));
    if (who) this.lastSpeakerKey = who;
  }

  renderMic(state, before = state) {
    const { micArea, mic, micNote } = this.el;
    micArea.hidden = !state.canSpeak && !state.micOn;
    mic.setAttribute('aria-pressed', String(state.micOn));
    mic.textContent = this.i18n.t(this.ptt ? 'audio.talk' : 'audio.mic');
    mic.dataset.on = String(state.micOn);
    if (!state.micOn) this.el.level.value = 0;
    let key = null;
    if (state.micError) key = `audio.micError.${state.micError}`;
    else if (state.micOn) key = 'audio.micLive';
    else if (state.canSpeak) key = this.ptt ? 'audio.pttHint' : 'audio.micHint';
    if (key) micNote.textContent = this.i18n.t(key); // else it keeps what it said (why the microphone was cut off)
    if (state.micError && state.micError !== before.micError) this.announcer.say(this.i18n.t(key));
    if (this.sayWhenAllowed && state.canSpeak && !before.canSpeak && state !== before) this.announcer.say(this.i18n.t('audio.micHint'));
  }
}
