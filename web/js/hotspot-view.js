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

import { Hotspots } from './hotspots.js';
import { HotspotPanel } from './hotspot-panel.js';
import { MirrorList } from './mirror.js';
import { clientFromNdc, ndcFromClient } from './screen-points.js';

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
    store.on('change', ({ action, hotspot, previous }) => {
      this.render();
      if (action === 'delete') this.markers?.remove(hotspot.id);
      else this.markers?.set(hotspot);
      this.invalidate();
      const title = i18n.pickWithLang(hotspot.title);
      const key = action === 'delete' ? 'hotspots.removedAnnounce' : previous ? null : 'hotspots.addedAnnounce';
      // Staff hear their own changes from the editor; residents hear what appears and goes.
      if (key && !this.editor) announcer.say([i18n.t(key), { text: title.text, lang: title.lang }]);
    });
    if (connection) store.attach(connection);
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

  /** Under each hotspot's button: its kind and the place it is in; in edit mode, "Edit". */
  decorate(hotspot, li) {
    const { doc, i18n } = this;
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
    this.three = three;
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
