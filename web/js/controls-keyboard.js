// KeyboardControls — walking with the keyboard alone, while the 3D view has focus.
//
// Arrows Up/Down or W/S walk, Left/Right turn, A/D step sideways, Shift walks faster,
// PageUp/PageDown (or Q/E) look up/down, R goes back to the entrance. The page-wide, remappable
// shortcuts (Home, N, L, ? …) live in shortcuts.js and reach the view's keys by bubbling. Letters are matched by physical key (event.code), so Z/Q/S/D work on French AZERTY
// keyboards.
// Frame-rate independence: each axis is weighted by the fraction of the frame its key was really
// held (from the events' timestamps), so holding ArrowUp for 1.5 s walks 1.5 s worth even at 3 fps.
// Invariants: keys only act while the view is focused, so Tab and the page's own shortcuts keep
// working; keys with Ctrl/Alt/Meta are left to the browser; all held keys are released on blur.

const AXES = {
  ArrowUp: ['forward', 1],
  KeyW: ['forward', 1],
  ArrowDown: ['forward', -1],
  KeyS: ['forward', -1],
  ArrowLeft: ['turn', 1],
  ArrowRight: ['turn', -1],
  KeyA: ['strafe', -1],
  KeyD: ['strafe', 1],
  PageUp: ['look', 1],
  KeyQ: ['look', 1],
  PageDown: ['look', -1],
  KeyE: ['look', -1],
};

const ACTIONS = {
  KeyR: 'entrance',
};

export class KeyboardControls {
  /**
   * @param {HTMLElement} target the focusable 3D view
   * @param {{onAction?: (name: string) => void}} options
   */
  constructor(target, { onAction = () => {} } = {}) {
    this.target = target;
    this.onAction = onAction;
    this.held = new Map(); // code -> event.timeStamp of the press
    this.partial = new Map(); // code -> ms held during the current frame by presses already released
    this.frameStart = performance.now();
    this.run = false;
    this.onKeyDown = this.onKeyDown.bind(this);
    this.onKeyUp = this.onKeyUp.bind(this);
    this.release = this.release.bind(this);
    target.addEventListener('keydown', this.onKeyDown);
    window.addEventListener('keyup', this.onKeyUp);
    target.addEventListener('blur', this.release);
    window.addEventListener('blur', this.release);
    this.onVisibility = () => document.hidden && this.release();
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  onKeyDown(event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    this.run = event.shiftKey;
    const code = codeOf(event);
    if (code in AXES) {
      if (!this.held.has(code)) this.held.set(code, event.timeStamp);
      event.preventDefault(); // no page scrolling while walking
    } else if (code in ACTIONS) {
      event.preventDefault();
      if (!event.repeat) this.onAction(ACTIONS[code]);
    }
  }

  onKeyUp(event) {
    this.run = event.shiftKey;
    const code = codeOf(event);
    const pressedAt = this.held.get(code);
    if (pressedAt === undefined) return;
    this.held.delete(code);
    const ms = event.timeStamp - Math.max(pressedAt, this.frameStart);
    if (ms > 0) this.partial.set(code, (this.partial.get(code) || 0) + ms);
  }

  release() {
    this.held.clear();
    this.partial.clear();
    this.run = false;
  }

  /** Adds the keyboard axes of the frame ending at `now` (rAF / performance.now() time) to the intent. */
  read(intent, now = performance.now()) {
    const span = now - this.frameStart;
    const codes = new Set([...this.held.keys(), ...this.partial.keys()]);
    for (const code of codes) {
      let ms = this.partial.get(code) || 0;
      const pressedAt = this.held.get(code);
      if (pressedAt !== undefined) ms += Math.max(0, now - Math.max(pressedAt, this.frameStart));
      const fraction = span > 0 ? Math.min(1, ms / span) : pressedAt !== undefined ? 1 : 0;
      const [axis, sign] = AXES[code];
      intent[axis] += sign * fraction;
    }
    this.partial.clear();
    this.frameStart = Math.max(this.frameStart, now);
    intent.forward = clampAxis(intent.forward);
    intent.strafe = clampAxis(intent.strafe);
    intent.turn = clampAxis(intent.turn);
    intent.look = clampAxis(intent.look);
    intent.run = intent.run || this.run;
  }

  /** Forgets key time not yet turned into movement (after a teleport); held keys count from now on. */
  discardPending(now = performance.now()) {
    this.partial.clear();
    this.frameStart = Math.max(this.frameStart, now);
  }

  get active() {
    return this.held.size > 0;
  }

  dispose() {
    this.target.removeEventListener('keydown', this.onKeyDown);
    window.removeEventListener('keyup', this.onKeyUp);
    this.target.removeEventListener('blur', this.release);
    window.removeEventListener('blur', this.release);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }
}

// Arrows and paging keys by `key` (they have no layout issue); letters by physical `code`.
function codeOf(event) {
  if (event.key && (event.key.startsWith('Arrow') || event.key.startsWith('Page') || event.key === 'Home')) {
    return event.key;
  }
  return event.code;
}

function clampAxis(value) {
  return Math.max(-1, Math.min(1, value));
}
