// Mirror — the accessible HTML layer beside the 3D view (and the whole page in text mode): lists of
// the things in a scene, each item a real button that takes the resident there, plus "where am I".
//
// A MirrorList is one such list (a heading, a <ul> of buttons, each with its description below and
// `aria-current="location"` on the one the resident is in). The zones are the first list; hotspots
// (and later events) add theirs with `mirror.addList(...)` beside it — same markup, same focus rules.
// Invariants: texts from the manifest go in as text (never HTML), with `lang` when shown in a
// fallback language; choosing an item never moves focus (the resident keeps their place in the
// list); the announcement of a jump is made by the caller, once.

export class MirrorList {
  /**
   * @param {Document} doc
   * @param {HTMLElement} list the <ul> to fill
   * @param {{i18n: import('./i18n.js').I18n, onChoose: (item) => void, describe?: boolean}} options
   */
  constructor(doc, list, { i18n, onChoose, describe = true }) {
    Object.assign(this, { doc, list, i18n, onChoose, describe });
    this.buttons = new Map();
    this.current = null;
  }

  /** items: [{id, name: {en, fr…}, description: {en, fr…}}] */
  render(items) {
    const { doc, i18n } = this;
    this.buttons.clear();
    this.list.replaceChildren(
      ...items.map((item) => {
        const li = doc.createElement('li');
        li.className = 'mirror-item';
        li.dataset.id = item.id;
        const button = li.appendChild(doc.createElement('button'));
        button.type = 'button';
        button.className = 'mirror-button';
        i18n.setText(button, item.name);
        button.addEventListener('click', () => this.onChoose(item));
        if (this.describe && item.description) {
          const description = li.appendChild(doc.createElement('p'));
          description.className = 'mirror-description';
          description.id = `${this.list.id}-${item.id}-description`;
          i18n.setText(description, item.description);
          button.setAttribute('aria-describedby', description.id);
        }
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
