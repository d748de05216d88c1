// Mirror — the accessible HTML layer beside the 3D view (and the whole page in text mode): lists of
// the things in a scene, each item a real button that takes the resident there, plus "where am I".
//
// A MirrorList is one such list (a heading, a <ul> of buttons, each with its description below and
// `aria-current="location"` on the one the resident is in). The zones are the first list; the hotspots
// (hotspot-view.js, section #hotspots) are a second MirrorList — same markup, same focus rules.
// The server renders the items first (server/pages.py: each name in a `span.mirror-button.mirror-static`, the
// same box as the button): render() keeps those items and turns each name into its button in place. What
// the server added beside an item (`.server-extra`, e.g. a hotspot's proposal state) stays while the item is
// the version the server rendered (`li[data-version]`), and goes when it changes; a view that keeps such a
// line live itself (hotspot-view.js: the proposal's state) takes it over by dropping its `server-extra` class.
// Invariants: texts from the manifest go in as text (never HTML), with `lang` when shown in a
// fallback language; an item already on the page is reused, never rebuilt (nothing moves); choosing an item never moves focus (the resident keeps their place in the
// list); the announcement of a jump is made by the caller, once.

export class MirrorList {
  /**
   * @param {Document} doc
   * @param {HTMLElement} list the <ul> to fill
   * @param {{i18n: import('./i18n.js').I18n, onChoose: (item, button) => void, describe?: boolean,
   *          decorate?: (item, li) => void}} options
   *   `decorate` adds an item's extra lines or controls (each marked `mirror-extra`, rebuilt on render)
   */
  constructor(doc, list, { i18n, onChoose, describe = true, decorate = null }) {
    Object.assign(this, { doc, list, i18n, onChoose, describe, decorate });
    this.buttons = new Map();
    this.items = new Map();
    this.current = null;
  }

  /**
   * items: [{id, name: {en, fr…}, description: {en, fr…}}]. Rendering again keeps the elements of items
   * that stay (keyed by id), so focus on one of them survives a live update.
   */
  render(items) {
    const { doc, i18n } = this;
    const old = new Map([...this.list.children].map((li) => [li.dataset.id, li]));
    this.buttons.clear();
    this.items.clear();
    this.list.replaceChildren(
      ...items.map((item) => {
        this.items.set(String(item.id), item);
        let li = old.get(String(item.id));
        let button = li?.querySelector(':scope > .mirror-button');
        if (!li) {
          li = doc.createElement('li');
          li.className = 'mirror-item';
          li.dataset.id = item.id;
        }
        if (!button || button.tagName !== 'BUTTON') {
          const made = doc.createElement('button');
          made.type = 'button';
          made.className = 'mirror-button';
          made.addEventListener('click', () => this.onChoose(this.items.get(li.dataset.id), made));
          if (button) button.replaceWith(made); // the server's name, now operable
          else li.prepend(made);
          button = made;
        }
        const rendered = li.dataset.version;
        if (rendered !== undefined && String(item.version ?? item.hotspot?.version) !== rendered) {
          for (const stale of li.querySelectorAll(':scope > .server-extra')) stale.remove();
          delete li.dataset.version;
        }
        i18n.setText(button, item.name);
        for (const extra of li.querySelectorAll(':scope > .mirror-description, :scope > .mirror-extra')) extra.remove();
        button.removeAttribute('aria-describedby');
        if (this.describe && item.description) {
          const description = li.appendChild(doc.createElement('p'));
          description.className = 'mirror-description';
          description.id = `${this.list.id}-${item.id}-description`;
          i18n.setText(description, item.description);
          button.setAttribute('aria-describedby', description.id);
        }
        this.decorate?.(item, li, button);
        this.buttons.set(item.id, button);
        return li;
      }),
    );
    this.setCurrent(this.current);
  }

  /** Marks the item the resident is at (or none). */
  setCurrent(id) {
    this.current = id;
    for (const [itemId, button] of this.buttons) {
      if (itemId === id) button.setAttribute('aria-current', 'location');
      else button.removeAttribute('aria-current');
    }
  }

  /** Focuses the current item, else the first one. Returns false when the list is empty. */
  focus() {
    const button = this.buttons.get(this.current) || this.buttons.values().next().value;
    button?.focus();
    return Boolean(button);
  }
}

export class Mirror {
  /**
   * @param {Document} doc
   * @param {{i18n, zones: Array, onZone: (zone) => void, onWhereAmI: () => void}} options
   */
  constructor(doc, { i18n, zones, onZone, onWhereAmI }) {
    this.doc = doc;
    this.i18n = i18n;
    this.section = doc.getElementById('places');
    this.location = doc.getElementById('location-text');
    this.whereButton = doc.getElementById('where-button');
    this.whereButton.addEventListener('click', () => onWhereAmI());
    this.zones = new MirrorList(doc, doc.getElementById('zone-list'), { i18n, onChoose: onZone });
    this.zones.render(zones || []);
    this.section.hidden = false;
    this.setLocation(null);
  }

  /** Shows (not announces) where the resident is; `zone` null means outside every named place. */
  setLocation(zone) {
    this.zones.setCurrent(zone ? zone.id : null);
    const { i18n } = this;
    if (!zone) {
      this.location.textContent = i18n.t('places.outside');
      return;
    }
    const label = this.doc.createElement('strong');
    i18n.setText(label, zone.name);
    this.location.replaceChildren(`${i18n.t('places.youAreIn')} `, label);
  }
}
