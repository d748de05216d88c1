// PresencePanel — the DOM side of presence in web/scene.html: "People here (n)" with the roster and
// the connection status, the chat (log and a labelled input), the resident's name, and the name-tag
// setting. Everything is plain HTML operable by keyboard; arrow keys typed here never walk (the
// walking keys listen on the 3D view only).
//
// Invariants: text from other residents (names, chat) only ever reaches the page through textContent
// of elements we create — never innerHTML; screen readers hear chat lines, arrivals and departures
// through the shared polite announcer, batched at most once per ANNOUNCE_EVERY_MS so a busy room
// cannot flood them, and never their own messages; the chat log keeps the newest MAX_LINES lines.

import { MAX_CHAT_LENGTH, validName } from './presence.js';

const ANNOUNCE_EVERY_MS = 1500;
const ANNOUNCE_BATCH = 3; // more than this in one batch: the newest ones plus "and n more"
const MAX_LINES = 200;
const NAMES_KEY = 'civicSpace.nameTags';

/** Speaks queued lines through an Announcer, batched and rate-limited. */
export class AnnounceQueue {
  constructor(announcer, i18n, every = ANNOUNCE_EVERY_MS) {
    Object.assign(this, { announcer, i18n, every });
    this.pending = [];
    this.timer = 0;
    this.lastAt = -Infinity;
  }

  push(text) {
    this.pending.push(text);
    if (this.timer) return;
    const wait = Math.max(0, this.lastAt + this.every - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.timer = 0;
    const lines = this.pending.splice(0);
    if (!lines.length) return;
    const kept = lines.slice(-ANNOUNCE_BATCH);
    let text = kept.join(' — ');
    if (lines.length > kept.length) text = `${this.i18n.t('people.andMore', { count: lines.length - kept.length })} ${text}`;
    this.announcer.say(text);
    this.lastAt = performance.now();
  }
}

export class PresencePanel {
  /**
   * @param {Document} doc
   * @param {import('./i18n.js').I18n} i18n
   * @param {import('./announcer.js').Announcer} announcer
   * @param {import('./presence.js').Presence} presence
   * @param {{onNamesVisible?: (visible: boolean) => void, prefs?: import('./prefs.js').Prefs}} options
   *   with `prefs`, the name-tag setting is the "name tags" preference (also in the preferences dialog)
   */
  constructor(doc, i18n, announcer, presence, { onNamesVisible = () => {}, prefs = null } = {}) {
    Object.assign(this, { doc, i18n, announcer, presence, onNamesVisible, prefs });
    this.queue = new AnnounceQueue(announcer, i18n);
    const byId = (id) => doc.getElementById(id);
    this.heading = byId('people-title');
    this.status = byId('presence-status');
    this.retry = byId('presence-retry');
    this.reload = byId('presence-reload');
    this.roster = byId('roster');
    this.chatLog = byId('chat-log');
    this.chatEmpty = byId('chat-empty');
    this.chatForm = byId('chat-form');
    this.chatInput = byId('chat-input');
    this.chatError = byId('chat-error');
    this.nameForm = byId('name-form');
    this.nameInput = byId('name-input');
    this.nameError = byId('name-error');
    this.namesToggle = byId('names-toggle');
    this.timeFormat = new Intl.DateTimeFormat(i18n.lang, { hour: '2-digit', minute: '2-digit' });
    this.welcomed = false;
    this.statusTimer = 0;

    this.chatInput.maxLength = MAX_CHAT_LENGTH;
    this.nameInput.value = presence.savedName() || '';
    this.namesToggle.checked = prefs ? prefs.get('nameTags') : loadNamesVisible();
    this.onNamesVisible(this.namesToggle.checked);
    prefs?.onChange((name, value) => {
      if (name !== 'nameTags' || value === this.namesToggle.checked) return;
      this.namesToggle.checked = value;
      this.onNamesVisible(value);
    });

    this.chatForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.sendChat();
    });
    this.nameForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveName();
    });
    this.nameInput.addEventListener('input', () => this.showFieldError(this.nameInput, this.nameError, null));
    this.chatInput.addEventListener('input', () => this.showFieldError(this.chatInput, this.chatError, null));
    this.namesToggle.addEventListener('change', () => this.applyNamesVisible(this.namesToggle.checked));
    this.retry.addEventListener('click', () => presence.reconnectNow());
    this.reload.addEventListener('click', () => location.reload());

    presence.on('status', () => this.renderStatus());
    presence.on('members', () => this.renderRoster());
    presence.on('welcome', (info) => this.onWelcome(info));
    presence.on('join', ({ id, name }) => id !== presence.id && this.queue.push(i18n.t('people.joined', { name })));
    presence.on('leave', ({ name }) => name !== undefined && this.queue.push(i18n.t('people.left', { name })));
    presence.on('rename', (change) => this.onRename(change));
    presence.on('chat', (line) => this.addChatLine(line));
    presence.on('problem', (problem) => this.onProblem(problem));
    presence.on('overflow', ({ instance }) => this.announcer.say(i18n.t('presence.overflow', { instance })));
    this.renderStatus();
    this.renderRoster();
  }

  // --- names -------------------------------------------------------------------------------------

  toggleNames() {
    this.namesToggle.checked = !this.namesToggle.checked;
    this.applyNamesVisible(this.namesToggle.checked);
    this.announcer.say(this.i18n.t(this.namesToggle.checked ? 'settings.namesShown' : 'settings.namesHidden'));
  }

  applyNamesVisible(visible) {
    if (this.prefs) {
      this.prefs.set('nameTags', visible);
      this.onNamesVisible(visible);
      return;
    }
    try {
      localStorage.setItem(NAMES_KEY, visible ? '1' : '0');
    } catch {
      // not remembered: fine
    }
    this.onNamesVisible(visible);
  }

  saveName() {
    const error = this.presence.rename(this.nameInput.value);
    if (error) {
      this.showFieldError(this.nameInput, this.nameError, this.i18n.t('settings.nameInvalid'));
      this.nameInput.focus();
      return;
    }
    this.nameInput.value = validName(this.nameInput.value);
    if (!this.presence.connected) this.announcer.say(this.i18n.t('settings.nameSaved'));
    // when connected, the server's rename echo confirms it (onRename)
  }

  onRename({ name, previous, self }) {
    if (self) {
      this.nameInput.value = name;
      this.announcer.say(this.i18n.t('settings.nameNow', { name }));
    } else {
      this.queue.push(this.i18n.t('people.renamed', { previous, name }));
    }
  }

  // --- chat ----------------------------------------------------------------------------------------

  sendChat() {
    const error = this.presence.say(this.chatInput.value);
    if (error === 'empty') return;
    if (error) {
      this.showFieldError(this.chatInput, this.chatError, this.i18n.t(`chat.error.${error}`));
      return;
    }
    this.chatInput.value = '';
  }

  addChatLine({ name, text, ts, self }) {
    const item = this.doc.createElement('li');
    item.className = self ? 'chat-line chat-line-self' : 'chat-line';
    const meta = item.appendChild(this.doc.createElement('p'));
    meta.className = 'chat-meta';
    const who = meta.appendChild(this.doc.createElement('span'));
    who.className = 'chat-name';
    who.textContent = name;
    meta.append(' ');
    const time = meta.appendChild(this.doc.createElement('time'));
    const date = new Date(ts * 1000);
    time.dateTime = date.toISOString();
    time.textContent = this.timeFormat.format(date);
    const body = item.appendChild(this.doc.createElement('p'));
    body.className = 'chat-text';
    body.textContent = text;

    const log = this.chatLog;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(item);
    while (log.children.length > MAX_LINES) log.firstElementChild.remove();
    this.chatEmpty.hidden = true;
    if (atBottom || self) log.scrollTop = log.scrollHeight;
    if (!self) this.queue.push(this.i18n.t('chat.said', { name, text }));
  }

  showFieldError(input, element, message) {
    element.hidden = !message;
    element.textContent = message || '';
    if (message) {
      input.setAttribute('aria-invalid', 'true');
      this.announcer.say(message);
    } else {
      input.removeAttribute('aria-invalid');
    }
  }

  // --- roster and status ---------------------------------------------------------------------------

  onWelcome({ name }) {
    this.nameInput.value = this.presence.savedName() ? name : this.nameInput.value;
    const others = this.presence.members().length - 1;
    // Announced once per visit, not on every reconnect.
    if (!this.welcomed) this.queue.push(this.i18n.t('people.welcome', { count: others }));
    this.welcomed = true;
  }

  renderRoster() {
    const members = this.presence.members();
    this.heading.textContent = this.i18n.t('people.heading', { count: members.length });
    const items = members.map(({ id, name }) => {
      const item = this.doc.createElement('li');
      item.className = 'roster-member';
      item.dataset.id = String(id);
      const label = item.appendChild(this.doc.createElement('span'));
      label.textContent = name;
      if (id === this.presence.id) {
        item.classList.add('roster-self');
        const you = item.appendChild(this.doc.createElement('span'));
        you.className = 'roster-you';
        you.textContent = ` ${this.i18n.t('people.you')}`;
      }
      return item;
    });
    this.roster.replaceChildren(...items);
  }

  renderStatus() {
    const { status, instance } = this.presence;
    clearInterval(this.statusTimer);
    this.retry.hidden = !(status === 'waiting' || status === 'full');
    this.reload.hidden = status !== 'outdated';
    this.doc.body.dataset.presence = status;
    const text = () => {
      switch (status) {
        case 'connected':
          return instance > 1 ? this.i18n.t('presence.connectedInstance', { instance }) : this.i18n.t('presence.connected');
        case 'waiting': {
          const seconds = Math.max(1, Math.ceil((this.presence.retryAt - Date.now()) / 1000));
          return this.i18n.t('presence.waiting', { seconds });
        }
        case 'full':
          return this.i18n.t('presence.full');
        case 'outdated':
          return this.i18n.t('presence.outdated');
        case 'gone':
          return this.i18n.t('presence.gone');
        case 'preparing':
          return this.i18n.t('presence.preparing');
        default:
          return this.i18n.t('presence.connecting');
      }
    };
    this.status.textContent = text();
    if (status === 'waiting') this.statusTimer = setInterval(() => (this.status.textContent = text()), 1000);
    if (status === 'waiting' && this.wasConnected) this.announcer.say(this.i18n.t('presence.lost'));
    if (status === 'outdated') this.announcer.say(this.i18n.t('presence.outdated'));
    this.wasConnected = status === 'connected';
  }

  onProblem({ code }) {
    if (code === 'chat_rate_limited') {
      this.showFieldError(this.chatInput, this.chatError, this.i18n.t('chat.error.rate_limited'));
    } else if (code === 'room_full') {
      this.status.textContent = this.i18n.t('presence.roomFull');
    } else if (code === 'server_shutdown') {
      this.announcer.say(this.i18n.t('presence.restarting'));
    }
  }
}

function loadNamesVisible() {
  try {
    return localStorage.getItem(NAMES_KEY) !== '0';
  } catch {
    return true;
  }
}
