// Tour — the guided tour of a scene from the manifest's `tour` stops: play, pause, next, previous
// and a speed, in the 3D view and in text mode alike. Each stop is a jump cut (the caller's
// `goTo(stop)` teleports the walker), its narration is shown in the resident's language (with
// `lang` on a fallback) and announced once through the polite announcer.
//
// While playing, a stop lasts long enough to read or hear its narration (DWELL_BASE_MS plus
// MS_PER_WORD per word) divided by the speed, then the next follows; after the last one the tour
// ends and says so. Invariants: the controls are never disabled (a disabled button would drop the
// keyboard focus): at an end they are `aria-disabled` and do nothing; only the visible state and
// one announcement change per step.

const DWELL_BASE_MS = 3000;
const MS_PER_WORD = 420;
export const TOUR_SPEEDS = [0.75, 1, 1.5];

export class Tour {
  /**
   * @param {Document} doc
   * @param {{i18n, announcer, stops: Array, goTo: (stop) => void, placeName?: (stop) => ({text, lang}|null)}} options
   */
  constructor(doc, { i18n, announcer, stops, goTo, placeName = () => null }) {
    Object.assign(this, { doc, i18n, announcer, stops: stops || [], goTo, placeName });
    this.index = -1;
    this.playing = false;
    this.finished = false;
    this.speed = 1;
    this.timer = 0;
    const byId = (id) => doc.getElementById(id);
    this.section = byId('tour');
    this.status = byId('tour-status');
    this.narration = byId('tour-narration');
    this.playButton = byId('tour-play');
    this.prevButton = byId('tour-prev');
    this.nextButton = byId('tour-next');
    this.speedSelect = byId('tour-speed');
    this.allStops = doc.querySelector('#tour-all .tour-stops');
    this.allSummary = doc.querySelector('#tour-all summary');
    this.section.hidden = !this.stops.length; // no tour: the section stays hidden (stops may arrive live)
    this.speedSelect.replaceChildren(
      ...TOUR_SPEEDS.map((speed) => {
        const option = doc.createElement('option');
        option.value = String(speed);
        option.textContent = `${new Intl.NumberFormat(i18n.lang).format(speed)}×`;
        option.selected = speed === this.speed;
        return option;
      }),
    );
    this.playButton.addEventListener('click', () => this.toggle());
    this.prevButton.addEventListener('click', () => this.previous());
    this.nextButton.addEventListener('click', () => this.next());
    this.speedSelect.addEventListener('change', () => this.setSpeed(Number(this.speedSelect.value)));
    this.render();
  }

  /**
   * New stops (staff changed the tour: a live `places` event). The tour goes back to its start, silently,
   * unless the stop being shown is still there (then it stays on it); the list of every stop follows.
   */
  setStops(stops, placeName = this.placeName) {
    const shown = this.stops[this.index]?.id;
    this.stops = stops || [];
    this.placeName = placeName;
    const index = this.stops.findIndex((stop) => stop.id === shown);
    if (index < 0) {
      clearTimeout(this.timer);
      Object.assign(this, { index: -1, playing: false, finished: false });
    } else {
      this.index = index;
    }
    this.section.hidden = !this.stops.length;
    this.renderAll();
    this.render();
  }

  /** The "every stop" list under the controls (the server renders it first; redrawn when stops change). */
  renderAll() {
    if (!this.allStops) return;
    const { doc, i18n } = this;
    this.allStops.replaceChildren(
      ...this.stops.map((stop) => {
        const li = doc.createElement('li');
        li.dataset.id = stop.id;
        const place = this.placeName(stop);
        if (place) {
          const strong = li.appendChild(doc.createElement('strong'));
          strong.textContent = `${place.text}.`;
          if (place.lang !== i18n.lang) strong.lang = place.lang;
          li.append(' ');
        }
        const narration = li.appendChild(doc.createElement('span'));
        i18n.setText(narration, stop.narration);
        return li;
      }),
    );
    if (this.allSummary) this.allSummary.textContent = i18n.t('tour.allStops', { count: this.stops.length });
  }

  /** What tests and other modules read. */
  state() {
    return { index: this.index, count: this.stops.length, playing: this.playing, finished: this.finished, speed: this.speed };
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (!this.stops.length) return;
    this.playing = true;
    if (this.index < 0 || this.finished) {
      this.finished = false;
      this.show(0);
    } else {
      this.announcer.say(this.i18n.t('tour.playing'));
      this.render();
      this.schedule();
    }
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    clearTimeout(this.timer);
    this.render();
    this.announcer.say(this.i18n.t('tour.paused'));
  }

  next() {
    if (!this.stops.length || this.finished) return;
    if (this.index >= this.stops.length - 1) this.finish();
    else this.show(this.index + 1);
  }

  previous() {
    if (this.finished) {
      this.finished = false;
      this.show(this.index); // back to the last stop
    } else if (this.index > 0) {
      this.show(this.index - 1);
    }
  }

  setSpeed(speed) {
    if (!TOUR_SPEEDS.includes(speed)) return;
    this.speed = speed;
    this.speedSelect.value = String(speed);
    if (this.playing) this.schedule();
  }

  /** Stops the tour without a word (the resident walked away, chose a place, went to the entrance). */
  stop() {
    if (!this.playing) return;
    this.playing = false;
    clearTimeout(this.timer);
    this.render();
  }

  show(index) {
    this.index = index;
    const stop = this.stops[index];
    this.goTo(stop);
    const narration = this.i18n.pickWithLang(stop.narration);
    this.render();
    this.announcer.say([...this.stopLabel(), { text: narration.text, lang: narration.lang }]);
    if (this.playing) this.schedule();
  }

  finish() {
    clearTimeout(this.timer);
    this.playing = false;
    this.finished = true;
    this.render();
    this.announcer.say(this.i18n.t('tour.end'));
  }

  schedule() {
    clearTimeout(this.timer);
    const stop = this.stops[this.index];
    const words = this.i18n.pick(stop.narration).split(/\s+/).length;
    const ms = (DWELL_BASE_MS + words * MS_PER_WORD) / this.speed;
    this.timer = setTimeout(() => this.playing && this.next(), ms);
  }

  /** "Stop 2 of 8: Corridor." as message parts (the place name may be in a fallback language). */
  stopLabel() {
    const label = this.i18n.t('tour.stopOf', { number: this.index + 1, count: this.stops.length });
    const place = this.placeName(this.stops[this.index]);
    return place ? [`${label}:`, { text: `${place.text}.`, lang: place.lang }] : [`${label}.`];
  }

  render() {
    const { i18n } = this;
    const started = this.index >= 0;
    if (this.finished) {
      this.status.textContent = i18n.t('tour.ended');
    } else if (started) {
      this.status.replaceChildren(
        ...this.stopLabel().map((part, i) => {
          if (typeof part === 'string') return i ? ` ${part}` : part;
          const span = this.doc.createElement('span');
          span.textContent = ` ${part.text}`;
          if (part.lang !== i18n.lang) span.lang = part.lang;
          return span;
        }),
      );
    } else {
      this.status.textContent = i18n.t('tour.intro', { count: this.stops.length });
    }
    if (started && !this.finished) i18n.setText(this.narration, this.stops[this.index].narration);
    else this.narration.textContent = '';
    this.narration.hidden = !started || this.finished;
    let playKey = 'tour.play';
    if (this.playing) playKey = 'tour.pause';
    else if (this.finished) playKey = 'tour.restart';
    else if (started) playKey = 'tour.resume';
    this.playButton.textContent = i18n.t(playKey);
    this.prevButton.setAttribute('aria-disabled', String(!started || (this.index === 0 && !this.finished)));
    this.nextButton.setAttribute('aria-disabled', String(this.finished));
    this.section.dataset.playing = String(this.playing);
  }
}
