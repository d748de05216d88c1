// CaptionLog — a meeting's caption lines in a list inside a role="log" container (the scene page's panel and the
// second-screen page), kept in step with EventLive's `captions` without rebuilding it: new lines are appended,
// lines the state no longer holds are removed, so a screen reader reviewing the log is never thrown back to
// its top and hears each new line once (the log role is polite, never assertive).
//
// Invariants: caption text only reaches the page through textContent; the newest line carries
// `caption-latest` (shown big by events.css); a reader who scrolled back up is not pulled down by a new line,
// one who was at the bottom stays there.

const NEAR_BOTTOM_PX = 48;

export class CaptionLog {
  /** @param {HTMLElement} scroller the scrolling role="log" element  @param {HTMLOListElement} list inside it */
  constructor(scroller, list) {
    this.scroller = scroller;
    this.list = list;
    this.shown = new Map(); // caption id -> <li>
  }

  /** @param {Array<{id: number, text: string}>} captions oldest first */
  update(captions) {
    const atBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight <= NEAR_BOTTOM_PX;
    const wanted = new Set(captions.map((c) => c.id));
    for (const [id, item] of this.shown) {
      if (!wanted.has(id)) {
        item.remove();
        this.shown.delete(id);
      }
    }
    const doc = this.list.ownerDocument;
    let changed = false;
    for (const caption of captions) {
      if (this.shown.has(caption.id)) continue;
      const item = doc.createElement('li');
      item.className = 'caption-line';
      item.dataset.id = String(caption.id);
      item.textContent = caption.text;
      this.list.append(item); // ids ascend: a new one is always the newest
      this.shown.set(caption.id, item);
      changed = true;
    }
    if (!changed) return;
    this.list.querySelector('.caption-latest')?.classList.remove('caption-latest');
    this.list.lastElementChild?.classList.add('caption-latest');
    if (atBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** The newest `count` lines' texts (the 3D caption bar shows these). */
  latest(count) {
    return [...this.shown.values()].slice(-count).map((item) => item.textContent);
  }
}
