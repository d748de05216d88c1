// HotspotView — the hotspots of the scene as the resident meets them: the store (loaded over HTTP, then
// live from the room), their list in the page (a MirrorList under "Consultations and information"), the
// panel a resident opens on one, and — in 3D only — their markers and the clicks on the view that pick a
// marker (or that the staff editor uses while edit mode is on).
//
// Given the few things it needs: the page's i18n and announcer, the scene id, the room connection (or
// null), the navigation (to stand in front of a hotspot, and to name the place it is in); the 3D parts
// arrive later through `show3D` (scene, camera, view and canvas, a model getter, invalidate, syncCamera).
// Invariants: the list and panel work in both modes, markers exist in 3D mode only; hotspot-markers.js
// (three.js) is imported only by `show3D`; residents hear hotspots appear and go, staff hear their own
// changes from the editor instead; while the editor is set, a click on the view is offered to it first.
// Each list item's proposal line (`p.hotspot-proposal`, under the name: the server renders it with the page,
// web/scene.html) follows the proposal live once the store knows it: the same words as the server's, in the
// same place, updated in place (the list is no live region: nothing is announced); a hotspot that arrives or
// is relinked live asks for its proposal once, so its line appears with it.

import { Hotspots } from './hotspots.js';
import { HotspotPanel } from './hotspot-panel.js';
import { MirrorList } from './mirror.js';
import { pickText, proposalStatusText } from './proposal-status.js';
import { clientFromNdc, ndcFromClient } from './screen-points.js';

/**
 * A proposal's list line as the server's template writes it (web/scene.html), as data: its parts in order, each a
 * string or {text, lang, fact?, stale?} (`fact`: 'status' | 'supports'; `stale`: the "may be out of date" note).
 * Pure: `lang` is the page's language and `t` its translation of a UI string key.
 */
export function proposalLineParts(proposal, lang, t) {
  const title = pickText(proposal?.title, lang);
  const parts = [`${t('proposal.label')}: `, { text: title.text, lang: title.lang },
    ` · ${t('proposal.status')}: `, { ...proposalStatusText(proposal, lang, t), fact: 'status' }];
  if (Number.isInteger(proposal?.supports)) {
    parts.push(` · ${t('proposal.supports')}: `, { text: String(proposal.supports), lang, fact: 'supports' });
  }
  if (proposal?.stale === true) parts.push(' ', { text: t('proposal.stale'), lang, stale: true });
  return parts;
}

export class HotspotView {
  /**
   * @param {Document} doc
   * @param {{i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer, sceneId: string,
   *          connection: import('./presence.js').Presence | null, navigation: import('./navigation.js').Navigation}} options
   */
  constructor(doc, { i18n, announcer, sceneId, connection, navigation }) {
    Object.assign(this, { doc, i18n, announcer, navigation });
    this.editor = null; // the staff editor, while one is signed in (staff-ui.js)
    this.three = null; // {camera, canvas, model(), invalidate(), syncCamera()} in 3D mode
    this.markers = null;
    this.surfaceAtFn = null;
    const store = (this.store = new Hotspots({ sceneId }));
    this.panel = new HotspotPanel(doc, { i18n, announcer, hotspots: store });
    this.section = doc.getElementById('hotspots');
    this.empty = doc.getElementById('hotspots-empty');
    this.list = new MirrorList(doc, doc.getElementById('hotspot-list'), {
      i18n,
      describe: false,
      onChoose: (item, button) => this.open(item.id, { opener: button, go: true }),
      decorate: (item, li) => this.decorate(item.hotspot, li),
    });
    store.on('reset', () => {
      this.render();
      this.markers?.sync(store.list());
      this.invalidate();
    });
    this.asked = new Set(); // proposal refs asked for on behalf of the list (once each)
    store.on('change', ({ action, hotspot, previous }) => {
      this.render();
      if (action !== 'delete') this.askProposal(hotspot.proposalRef);
      if (action === 'delete') this.markers?.remove(hotspot.id);
      else this.markers?.set(hotspot);
      this.invalidate();
      const title = i18n.pickWithLang(hotspot.title);
      const key = action === 'delete' ? 'hotspots.removedAnnounce' : previous ? null : 'hotspots.addedAnnounce';
      // Staff hear their own changes from the editor; residents hear what appears and goes.
      if (key && !this.editor) announcer.say([i18n.t(key), { text: title.text, lang: title.lang }]);
    });
    store.on('proposal', (proposal) => this.showProposal(proposal.ref));
    if (connection) {
      store.attach(connection);
      // After the store's own listener: it drops the count of a proposal it never fetched, the list shows it.
      connection.on('proposal_supports', ({ ref, supports }) => this.showSupports(ref, supports));
    }
    this.loaded = store.load().catch((error) => {
      this.empty.textContent = i18n.t('hotspots.loadFailed', { message: error.message });
      this.section.hidden = false;
    });
  }

  /** The staff editor (null: none): decorates the list's items and gets first go at clicks on the view. */
  setEditor(editor) {
    this.editor = editor;
    this.render();
  }

  /** True once the 3D view is there (the editor can place and move hotspots). */
  get can3d() {
    return Boolean(this.three);
  }

  invalidate() {
    this.three?.invalidate();
  }

  render() {
    const list = this.store.list();
    this.list.render(list.map((hotspot) => ({ id: hotspot.id, name: hotspot.title, hotspot })));
    this.empty.hidden = list.length > 0;
    if (this.store.loaded) this.section.hidden = false;
  }

  /** Under each hotspot's button: its proposal's state, its kind and the place it is in; in edit mode, "Edit". */
  decorate(hotspot, li) {
    const { doc, i18n } = this;
    this.proposalLine(hotspot, li);
    const line = doc.createElement('p');
    line.className = 'mirror-description mirror-extra';
    line.id = `hotspot-${hotspot.id}-description`;
    const kind = doc.createElement('span');
    kind.className = `kind-tag kind-${hotspot.kind}`;
    kind.textContent = i18n.t(`hotspot.kind.${hotspot.kind}`);
    line.append(kind);
    const zone = this.navigation.zoneAt(hotspot.position);
    if (zone) {
      const name = doc.createElement('span');
      i18n.setText(name, zone.name);
      line.append(` · ${i18n.t('hotspots.inPlace')} `, name);
    }
    const description = i18n.pickWithLang(hotspot.description);
    if (description.text) {
      const text = doc.createElement('span');
      text.className = 'hotspot-summary';
      text.textContent = description.text;
      if (description.lang !== i18n.lang) text.lang = description.lang;
      line.append(doc.createElement('br'), text);
    }
    li.append(line);
    li.querySelector('.mirror-button').setAttribute('aria-describedby', line.id);
    if (this.editor) {
      const before = li.children.length;
      this.editor.decorate(hotspot, li);
      for (const extra of [...li.children].slice(before)) extra.classList.add('mirror-extra');
    }
  }

  /**
   * The proposal line of one list item, from what the store knows: made (right under the name) or refilled in
   * place. The server's line stays as it is while the store knows nothing newer; ours goes when the hotspot
   * links another proposal or none.
   */
  proposalLine(hotspot, li) {
    const ref = typeof hotspot.proposalRef === 'string' && hotspot.proposalRef ? hotspot.proposalRef : null;
    let line = li.querySelector(':scope > .hotspot-proposal');
    if (line && line.dataset.ref !== undefined && line.dataset.ref !== ref) {
      line.remove();
      line = null;
    }
    const proposal = ref ? this.store.cachedProposal(ref) : null;
    if (!proposal) return;
    if (!line) {
      line = this.doc.createElement('p');
      li.querySelector(':scope > .mirror-button').after(line);
    }
    line.className = 'hotspot-proposal';
    line.dataset.ref = ref;
    const { doc, i18n } = this;
    line.replaceChildren(
      ...proposalLineParts(proposal, i18n.lang, (key) => i18n.t(key)).map((part) => {
        if (typeof part === 'string') return part;
        const span = doc.createElement(part.stale ? 'strong' : 'span');
        span.textContent = part.text;
        if (part.lang !== i18n.lang) span.lang = part.lang;
        if (part.fact) span.dataset.fact = part.fact;
        if (part.stale) span.className = 'proposal-stale';
        return span;
      }),
    );
  }

  /** The list items whose hotspot links `ref`: [hotspot, li]. */
  itemsLinking(ref) {
    const found = [];
    for (const item of this.list.items.values()) {
      const li = this.list.buttons.get(item.id)?.closest('li');
      if (li && item.hotspot.proposalRef === ref) found.push([item.hotspot, li]);
    }
    return found;
  }

  showProposal(ref) {
    for (const [hotspot, li] of this.itemsLinking(ref)) this.proposalLine(hotspot, li);
  }

  /** A live support count: the line's count, also when the store never fetched the proposal. */
  showSupports(ref, supports) {
    if (!Number.isInteger(supports)) return;
    for (const [, li] of this.itemsLinking(ref)) {
      const fact = li.querySelector(':scope > .hotspot-proposal [data-fact="supports"]');
      if (fact) fact.textContent = String(supports);
    }
  }

  /** Asks once for a proposal a hotspot links that the store does not know yet (a hotspot that came live). */
  askProposal(ref) {
    if (typeof ref !== 'string' || !ref || this.asked.has(ref) || this.store.cachedProposal(ref)) return;
    this.asked.add(ref);
    this.store.proposal(ref).then(
      () => this.showProposal(ref),
      () => {}, // the line stays away; the panel says why when opened
    );
  }

  /** Opens a hotspot's panel; `go` first takes the resident to stand in front of it. */
  open(id, { opener = null, go = false } = {}) {
    const hotspot = this.store.get(id);
    if (!hotspot) return false;
    if (go) this.navigation.goToHotspot(hotspot);
    this.panel.open(hotspot, opener || this.doc.activeElement);
    return true;
  }

  /** Stands in front of a hotspot (by id or the hotspot). */
  goTo(hotspotOrId) {
    this.navigation.goToHotspot(typeof hotspotOrId === 'object' ? hotspotOrId : this.store.get(hotspotOrId));
  }

  /** Focus back into the list: on the hotspot `id`, else the current or first item, else the heading. */
  focusList(id = null) {
    const button = id != null ? this.list.buttons.get(id) : null;
    if (button) button.focus();
    else if (!this.list.focus()) this.doc.getElementById('hotspots-title').focus();
  }

  // --- 3D only -------------------------------------------------------------------------------------

  /**
   * The markers in the 3D view.
   * @param {{scene, camera, view: HTMLElement, canvas: HTMLCanvasElement, model: () => object,
   *          invalidate: () => void, syncCamera: () => void, reducedMotion: boolean}} three
   *   `view` is the focusable element around the canvas (panels opened from a click go back to it)
   */
  async show3D({ scene, reducedMotion, ...three }) {
    this.three = { scene, ...three }; // the places editor draws its zone preview into the same scene
    const { HotspotMarkers, surfaceAt } = await import('./hotspot-markers.js');
    this.surfaceAtFn = surfaceAt;
    this.markers = new HotspotMarkers(scene, {
      labelOf: (hotspot) => this.i18n.pick(hotspot.title),
      reducedMotion,
    });
    this.markers.sync(this.store.list());
  }

  setReducedMotion(on) {
    this.markers?.setReducedMotion(on);
  }

  /** Once a frame: the markers' pulse and size; true when the view needs drawing again. */
  update(time) {
    return Boolean(this.markers?.update(time, this.three.camera));
  }

  /** Highlights one marker (null: none), e.g. the one in the editor's form. */
  select(id) {
    this.markers?.select(id);
  }

  /** A click on the 3D view: the editor's (edit mode), else a marker's panel. True when used. */
  clickView(event, locked) {
    if (!this.three) return false;
    // Pointer lock: the click is at the centre of the view.
    const ndc = locked ? { x: 0, y: 0 } : ndcFromClient(this.three.canvas.getBoundingClientRect(), event.clientX, event.clientY);
    if (this.editor?.onViewClick(ndc)) return true;
    const id = this.pick(ndc);
    if (id == null) return false;
    if (locked) this.doc.exitPointerLock?.();
    return this.open(id, { opener: this.three.view });
  }

  /** The id of the marker under `ndc`, or null (never through a wall). */
  pick(ndc) {
    return this.markers ? this.markers.pick(ndc, this.three.camera, this.three.model()) : null;
  }

  /** The scene's surface under `ndc` ({0, 0}: straight ahead of the eyes): {point, normal} or null. */
  surfaceAt(ndc) {
    const model = this.three?.model();
    if (!model || !this.surfaceAtFn) return null;
    this.three.syncCamera();
    this.three.camera.updateMatrixWorld();
    return this.surfaceAtFn(model, this.three.camera, ndc);
  }

  /** A marker's position in page pixels ({x, y}), or null (tests click it). */
  screenPoint(id) {
    if (!this.markers) return null;
    this.three.camera.updateMatrixWorld();
    const p = this.markers.screenPoint(id, this.three.camera);
    return p ? clientFromNdc(this.three.canvas.getBoundingClientRect(), p) : null;
  }
}
