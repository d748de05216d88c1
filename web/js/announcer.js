// Announcer — speaks short status messages to screen readers through one polite live region
// ("Loading 40%", "Ready", "Back at the entrance").
//
// Invariant: the same message twice in a row is announced twice (the region is cleared first,
// then filled on the next task, which screen readers notice as a change).

export class Announcer {
  /** @param {HTMLElement} region an element with role="status" / aria-live="polite" */
  constructor(region) {
    this.region = region;
    this.timer = 0;
  }

  say(message) {
    clearTimeout(this.timer);
    this.region.textContent = '';
    this.timer = setTimeout(() => {
      this.region.textContent = message;
    }, 50);
  }
}
