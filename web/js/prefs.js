// Prefs — the resident's display and movement preferences, kept in this browser only (localStorage,
// never sent to the server): reduced motion, high contrast, text size, movement speed, name tags,
// the interface language, the preferred mode (3D or text only) and remapped keyboard shortcuts.
//
// Invariants: reading never throws (private mode, blocked storage: defaults apply, nothing is
// remembered); a preference left at its default follows the system (`prefers-reduced-motion`,
// `prefers-contrast`) until the resident sets it; applying preferences to a page only sets
// `data-*` attributes on <html> (the CSP forbids inline styles; site.css does the rest).

const KEY = 'civicSpace.prefs';
const OLD_NAMES_KEY = 'civicSpace.nameTags'; // before preferences existed (presence-ui.js)

export const TEXT_SIZES = [100, 125, 150];
export const MOVE_SPEEDS = [0.5, 1, 1.5];

const DEFAULTS = {
  reducedMotion: null, // null: follow the system
  highContrast: null,
  textSize: 100,
  moveSpeed: 1,
  nameTags: true,
  lang: null, // null: the browser's languages
  mode: null, // null: 3D when it can, text when WebGL is missing or the browser saves data
  keys: {}, // action -> key, only the remapped ones
};

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function media(query) {
  try {
    return window.matchMedia(query).matches;
  } catch {
    return false;
  }
}

export class Prefs {
  constructor(values = {}) {
    this.values = { ...DEFAULTS, ...values };
    this.listeners = new Set();
  }

  static load() {
    const store = storage();
    let values = {};
    try {
      const raw = store?.getItem(KEY);
      if (raw) values = JSON.parse(raw) || {};
      else if (store?.getItem(OLD_NAMES_KEY) === '0') values = { nameTags: false };
    } catch {
      values = {};
    }
    return new Prefs(sanitize(values));
  }

  get(name) {
    return this.values[name];
  }

  /** Effective reduced motion: the resident's choice, else the system's. */
  get reducedMotion() {
    return this.values.reducedMotion ?? media('(prefers-reduced-motion: reduce)');
  }

  get highContrast() {
    return this.values.highContrast ?? media('(prefers-contrast: more)');
  }

  set(name, value) {
    if (this.values[name] === value) return;
    this.values = sanitize({ ...this.values, [name]: value });
    const store = storage();
    try {
      const changed = Object.fromEntries(Object.entries(this.values).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(DEFAULTS[k])));
      store?.setItem(KEY, JSON.stringify(changed));
      if (name === 'nameTags') store?.setItem(OLD_NAMES_KEY, value ? '1' : '0');
    } catch {
      // not remembered: fine
    }
    for (const listener of this.listeners) listener(name, this.values[name]);
  }

  /** listener(name, value) after every change. */
  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reflects the display preferences on <html> for site.css. */
  applyTo(doc = document) {
    const root = doc.documentElement;
    root.dataset.contrast = this.highContrast ? 'high' : 'normal';
    root.dataset.motion = this.reducedMotion ? 'reduced' : 'full';
    root.dataset.textSize = String(this.values.textSize);
  }
}

function sanitize(values) {
  const out = { ...DEFAULTS, ...values };
  if (!TEXT_SIZES.includes(out.textSize)) out.textSize = DEFAULTS.textSize;
  if (!MOVE_SPEEDS.includes(out.moveSpeed)) out.moveSpeed = DEFAULTS.moveSpeed;
  for (const name of ['reducedMotion', 'highContrast']) {
    if (out[name] !== null && typeof out[name] !== 'boolean') out[name] = null;
  }
  out.nameTags = out.nameTags !== false;
  if (!['text', '3d', null].includes(out.mode)) out.mode = null;
  if (typeof out.lang !== 'string') out.lang = null;
  if (!out.keys || typeof out.keys !== 'object' || Array.isArray(out.keys)) out.keys = {};
  return out;
}
