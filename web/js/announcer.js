// Announcer — speaks short status messages to screen readers through one polite live region
// ("Loading 40%", "Ready", "You are in the council chamber").
//
// Invariants: the region is role=status / aria-live=polite and only this class writes to it; one
// event is spoken once — the same message asked for again within REPEAT_MS is dropped (two parts of
// the page reacting to one action), unless the resident asked for it again (`repeat: true`, e.g.
// pressing "where am I" twice); a message asked for later than that is spoken again (the region is
// cleared first, then filled on a later task, which screen readers notice as a change); messages
// asked for within the same short delay are spoken together, in order — none is lost. Parts of a
// message in another language than the page carry their own `lang`.

const REPEAT_MS = 1000;
const FILL_DELAY_MS = 50;

export class Announcer {
  /** @param {HTMLElement} region an element with role="status" / aria-live="polite" */
  constructor(region) {
    this.region = region;
    this.timer = 0;
    this.pending = []; // messages waiting for the region to be filled: [{parts, text}]
    this.last = { text: '', at: -Infinity };
    this.history = []; // the messages spoken, newest last (tests read it through civicSpace)
  }

  /**
   * @param {string | Array<string | {text: string, lang?: string}>} message
   * @param {{repeat?: boolean}} options
   */
  say(message, { repeat = false } = {}) {
    const parts = (Array.isArray(message) ? message : [message])
      .map((part) => (typeof part === 'string' ? { text: part } : part))
      .filter((part) => part && part.text);
    const text = parts.map((part) => part.text).join(' ');
    if (!text) return;
    const now = performance.now();
    if (!repeat && text === this.last.text && now - this.last.at < REPEAT_MS) return;
    this.last = { text, at: now };
    this.pending.push({ parts, text });
    if (this.timer) return; // joins the messages already waiting
    this.region.textContent = '';
    this.timer = setTimeout(() => this.fill(), FILL_DELAY_MS);
  }

  fill() {
    this.timer = 0;
    const messages = this.pending.splice(0);
    const doc = this.region.ownerDocument;
    const spans = [];
    for (const { parts } of messages) {
      for (const part of parts) {
        const span = doc.createElement('span');
        span.textContent = spans.length ? ` ${part.text}` : part.text;
        if (part.lang && part.lang !== doc.documentElement.lang) span.lang = part.lang;
        spans.push(span);
      }
    }
    this.region.replaceChildren(...spans);
    for (const { text } of messages) this.history.push(text);
    this.history.splice(0, Math.max(0, this.history.length - 50));
  }
}
