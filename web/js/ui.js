// SceneUI — the DOM around the 3D view of web/scene.html: title and description, the loading
// progress bar, the hint over the view, the error and "no WebGL" messages, the text-only layout,
// and the page state that tests read (`document.body.dataset.state`: loading | ready | error |
// no-webgl | preparing — no-webgl is text mode chosen because this browser cannot show 3D, preparing a
// scene the server is still preparing).
//
// Invariants: owns no 3D and no input logic; every user-visible string comes from I18n; the
// progress bar's aria-valuenow is an integer percentage that never goes down.

const PREPARING_RETRY_S = 5; // as the server's Retry-After for a scene being prepared

export class SceneUI {
  /** @param {Document} doc  @param {import('./i18n.js').I18n} i18n  @param {import('./announcer.js').Announcer} announcer */
  constructor(doc, i18n, announcer) {
    this.doc = doc;
    this.i18n = i18n;
    this.announcer = announcer;
    const byId = (id) => doc.getElementById(id);
    this.view = byId('view');
    this.canvas = byId('canvas');
    this.title = byId('scene-title');
    this.description = byId('scene-description');
    this.loading = byId('loading');
    this.loadingLabel = byId('loading-label');
    this.progress = byId('progress');
    this.progressFill = this.progress.querySelector('.progress-fill');
    this.progressText = byId('progress-text');
    this.hint = byId('view-hint');
    this.message = byId('message');
    this.messageTitle = byId('message-title');
    this.messageText = byId('message-text');
    this.entranceButton = byId('entrance-button');
    this.joystick = byId('joystick');
    this.percent = -1;
    this.locked = false;
    this.editHint = null;
    this.announcedStep = -1;
  }

  setState(state) {
    this.doc.body.dataset.state = state;
  }

  /** Shows the scene's title and description in the page language. */
  showScene(manifest) {
    const title = this.i18n.pick(manifest.title) || manifest.id;
    this.sceneTitle = title;
    this.i18n.setText(this.title, manifest.title);
    if (!this.title.textContent) this.title.textContent = title;
    this.i18n.setText(this.description, manifest.description);
    this.doc.title = `${title} — ${this.i18n.t('site.name')}`;
    const viewLabel = this.i18n.t('scene.viewLabel', { title });
    this.view.setAttribute('aria-label', viewLabel);
    this.canvas.setAttribute('aria-label', viewLabel);
    this.loadingLabel.textContent = this.i18n.t('scene.loading', { title });
  }

  /** Updates the progress bar (fraction in [0, 1]); announces every 25 %. */
  setProgress(fraction) {
    const percent = Math.max(this.percent, Math.min(100, Math.floor(fraction * 100)));
    if (percent === this.percent) return;
    this.percent = percent;
    const text = `${percent}%`;
    this.progress.setAttribute('aria-valuenow', String(percent));
    this.progress.setAttribute('aria-valuetext', this.i18n.t('scene.loadingPercent', { percent }));
    this.progressFill.style.width = text;
    this.progressText.textContent = text;
    const step = Math.floor(percent / 25);
    if (step !== this.announcedStep && percent < 100) {
      this.announcedStep = step;
      this.announcer.say(this.i18n.t('scene.loadingPercent', { percent }));
    }
  }

  showReady() {
    this.setProgress(1);
    this.loading.hidden = true;
    this.view.classList.add('is-ready');
    this.entranceButton.disabled = false;
    this.setHint();
    this.setState('ready');
    this.announcer.say(this.i18n.t('scene.ready', { title: this.sceneTitle || '' }));
  }

  /** Hint over the view, depending on focus and pointer lock. */
  setHint({ focused = this.doc.activeElement === this.view, locked = this.locked, touch = this.touch } = {}) {
    this.touch = touch;
    this.locked = locked;
    if (this.editHint) {
      this.hint.textContent = this.editHint;
      return;
    }
    let key = 'hint.focus';
    if (locked) key = 'hint.locked';
    else if (touch) key = 'hint.touch';
    else if (focused) key = 'hint.keyboard';
    this.hint.textContent = this.i18n.t(key);
  }

  /** The editor's hint over the view while edit mode is on (null: the usual hints). */
  setEditHint(text) {
    this.editHint = text || null;
    this.setHint();
  }

  showError(error) {
    const code = error && error.code ? error.code : 'client_error';
    if (code === 'scene_preparing') return this.showPreparing();
    const message = (error && error.message) || String(error);
    if (!this.sceneTitle) {
      this.title.textContent = this.i18n.t('error.title');
      this.doc.title = `${this.i18n.t('error.title')} — ${this.i18n.t('site.name')}`;
    }
    this.showMessage(this.i18n.t('error.title'), this.i18n.t('error.text', { code, message }));
    this.setState('error');
  }

  /**
   * Text-only mode: no 3D view, the mirror, tour, people and chat are the page. `reason` is null
   * (asked for), 'save-data' (the browser asks to save data) or 'no-webgl' (shown as a message).
   */
  showTextMode(reason) {
    this.loading.hidden = true;
    this.view.hidden = true;
    this.entranceButton.disabled = false;
    const note = this.doc.getElementById('mode-note');
    if (reason === 'save-data') {
      note.textContent = this.i18n.t('mode.saveDataNote');
      note.hidden = false;
    }
    const ready = this.i18n.t('scene.readyText', { title: this.sceneTitle || '' });
    if (reason === 'no-webgl') {
      this.showNoWebGL();
      this.announcer.say([this.i18n.t('noWebgl.title'), ready]);
      return;
    }
    this.setState('ready');
    this.announcer.say(ready);
  }

  /** In text mode the places and the tour come right after the description (they are the content). */
  putContentFirst() {
    const about = this.doc.getElementById('about');
    about.after(...['places', 'hotspots', 'tour'].map((id) => this.doc.getElementById(id)));
  }

  showNoWebGL() {
    this.showMessage(this.i18n.t('noWebgl.title'), this.i18n.t('noWebgl.text'), { focus: false });
    this.setState('no-webgl');
  }

  /**
   * The scene was just added or updated and is still being prepared on the server (HTTP 503): say so and try
   * again every few seconds; when it answers, say that it is ready and open it.
   */
  showPreparing() {
    const title = this.i18n.t('scene.preparingTitle');
    this.title.textContent = title;
    this.doc.title = `${title} — ${this.i18n.t('site.name')}`;
    const rendered = this.doc.getElementById('message-retry'); // the server's page already says it, with progress
    this.showMessage(title, rendered ? this.messageText.textContent : this.i18n.t('scene.preparingText', { percent: 0 }));
    this.setState('preparing');
    const sceneId = decodeURIComponent(this.doc.location.pathname.split('/').pop());
    // The scene list says how far each preparation is: the text follows it (quietly: no announcement every few
    // seconds), and once the scene is ready the page says so and opens it.
    const retry = async () => {
      const response = await fetch('/api/scenes', { cache: 'no-store' }).catch(() => null);
      const listed = response?.ok ? await response.json().catch(() => null) : null;
      const entry = listed?.scenes?.find((scene) => scene.id === sceneId);
      if (entry && entry.status !== 'preparing') {
        this.messageText.textContent = this.i18n.t('scene.preparingReady');
        this.announcer?.say(this.messageText.textContent);
        setTimeout(() => this.doc.location.reload(), 1000); // time to hear it
        return;
      }
      if (entry && typeof entry.progress === 'number') {
        this.messageText.textContent = this.i18n.t('scene.preparingText', { percent: Math.round(entry.progress * 100) });
      }
      setTimeout(retry, PREPARING_RETRY_S * 1000);
    };
    setTimeout(retry, PREPARING_RETRY_S * 1000);
  }

  showMessage(title, text, { focus = true } = {}) {
    this.loading.hidden = true;
    this.view.hidden = true;
    this.messageTitle.textContent = title;
    this.messageText.textContent = text;
    this.message.hidden = false;
    if (focus) this.messageTitle.focus(); // read by screen readers; Tab then reaches "Back to all places"
  }
}
