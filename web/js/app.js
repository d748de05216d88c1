// App — entry point of web/scene.html. Wires the manifest, i18n, preferences, page UI, 3D viewer,
// asset loader, walker, controls and the accessible layer (mirror of the zones, guided tour,
// shortcuts and help) together, and exposes the ONE app object `window.civicSpace`:
//
//   civicSpace.ready        Promise: resolves when the scene is interactive — in 3D, or in text mode
//                           (`state().mode === 'text'`: asked for, no WebGL, or the browser saves data);
//                           rejects on error
//   civicSpace.state()      {position: [x, y, z] (feet, metres), yaw, pitch (degrees), sceneId, triangles,
//                           status, mode: '3d' | 'text', zone: id of the zone the walker is in, or null}
//   civicSpace.goToEntrance()  back to spawn[0], announced
//   civicSpace.goToZone(id)    jump cut to a zone (as its button in the mirror does), announced
//   civicSpace.tour         the guided tour: state() {index, count, playing, finished, speed}, play(), next()…
//   civicSpace.announcements()  the messages spoken through the polite live region, oldest first
//   civicSpace.teleport([x, y, z], yawDeg, pitchDeg)  jump cut (tour stops, zones, tests)
//   civicSpace.nextFrame()  Promise resolved after the next simulated frame (so a test that released a
//                           key reads a state that includes the whole hold, even at 3 frames a second)
//   civicSpace.presence     the room: `id`, `connected`, `members()` [{id, name}], `remote()`
//                           [{id, name, position: [x, y, z] (feet, metres), yaw (degrees)}] as rendered
//   civicSpace.hotspots     `list()` the scene's hotspots as the API gives them, `markers()` [{id, label,
//                           kind, position}] as drawn in 3D, `open(id)`, `goTo(id)`, `panelOpen()`,
//                           `screenPoint(id)` {x, y} in page pixels of a marker (or null), `loaded`
//   civicSpace.staff        `user()` {username, role} or null, `editing()`
//
// `document.body.dataset.state` mirrors the outcome: loading | ready | error | no-webgl (text mode
// chosen because WebGL is missing); `document.body.dataset.mode` is 3d | text.
// Invariants: three.js (and the 3D asset and walkable grid) are only downloaded in 3D mode, which
// needs WebGL 2 — text mode (`?mode=text`, the remembered switch, Save-Data) never fetches them; the
// walker is the single source of truth for the pose, the camera only copies it (text mode has a
// walker too, without a floor grid: zones and tour stops still say where the resident is, and
// others see them there); presence is optional — the roster and chat work without WebGL, and
// walking works without a connection. Hotspots come over HTTP and then live from the room; their
// markers (three.js) exist in 3D mode only, their list and panel in both modes; the staff editor is
// only downloaded for a signed-in editor.

import { Announcer } from './announcer.js';
import { api } from './api.js';
import { downloadAsset, downloadWalkGrid } from './downloads.js';
import { KeyboardControls } from './controls-keyboard.js';
import { PointerControls } from './controls-pointer.js';
import { TouchControls } from './controls-touch.js';
import { I18n, pickLanguage } from './i18n.js';
import { chooseMode } from './mode.js';
import { Mirror, MirrorList } from './mirror.js';
import { Prefs } from './prefs.js';
import { Presence } from './presence.js';
import { PresencePanel } from './presence-ui.js';
import { HelpDialog, Shortcuts } from './shortcuts.js';
import { setUpChrome } from './site.js';
import { Tour } from './tour.js';
import { SceneUI } from './ui.js';
import { Intent, Walker } from './walker.js';
import { zoneAt, zoneTarget } from './zones.js';
import { Hotspots, standingSpot } from './hotspots.js';
import { HotspotPanel } from './hotspot-panel.js';
import { SignInDialog, StaffSession } from './staff-signin.js';

const DEFAULT_MAX_STEP = 0.35;
const DEFAULT_MAX_DROP = 1.0;
const DEGREES = 180 / Math.PI;
const LOCATION_CHECK_MS = 400; // how often walking checks whether the resident entered another zone

export class CivicSpaceApp {
  constructor(doc = document) {
    this.doc = doc;
    this.sceneId = sceneIdFromLocation(location);
    this.walker = null;
    this.triangles = 0;
    this.intent = new Intent();
    this.viewDirty = true;
    this.frameWaiters = [];
    this.avatars = null;
    this.grid = null;
    this.zone = null; // the zone the walker is in (shown in the mirror)
    this.lastLocationCheck = 0;
    this.mode = '3d';
    this.presence = this.presenceFacade();
    this.hotspotStore = null; // the Hotspots store (data and live updates)
    this.markers = null;
    this.editor = null;
    this.session = new StaffSession();
    this.hotspots = this.hotspotsFacade();
    this.staff = this.staffFacade();
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // a failed load is shown on the page, not an unhandled rejection
  }

  /** Pose and facts for tests and the accessibility layer. */
  state() {
    const walker = this.walker;
    return {
      position: walker ? [walker.x, walker.y, walker.z] : null,
      yaw: walker ? walker.yaw * DEGREES : null,
      pitch: walker ? walker.pitch * DEGREES : null,
      sceneId: this.sceneId,
      triangles: this.triangles,
      status: this.doc.body.dataset.state,
      mode: this.mode,
      zone: this.zone ? this.zone.id : null,
    };
  }

  announcements() {
    return this.announcer ? [...this.announcer.history] : [];
  }

  goToEntrance() {
    if (!this.walker) return;
    this.tour?.stop();
    const spawn = this.spawn;
    this.teleport(spawn.position, spawn.yaw || 0, spawn.pitch || 0);
    this.announcer.say(this.i18n.t('scene.entranceAnnounce'));
  }

  /** A jump cut to a position (feet) and view direction in degrees: tour stops, zones, tests. */
  teleport(position, yawDeg = 0, pitchDeg = 0) {
    if (!this.walker) return;
    this.walker.placeAt(position, yawDeg, pitchDeg);
    this.keyboard?.discardPending(); // key time from before the jump must not move the walker after it
    this.viewDirty = true;
    this.updateLocation(false); // the jump's own announcement says where the resident is
  }

  /** Jump cut into a zone (by id or the zone object), facing as before; announced. */
  goToZone(zoneOrId) {
    const zones = this.manifest?.zones || [];
    const zone = typeof zoneOrId === 'string' ? zones.find((z) => z.id === zoneOrId) : zoneOrId;
    if (!zone || !this.walker) return;
    this.tour?.stop();
    const target = zoneTarget(zone, this.grid, { zones, maxStep: this.walker.maxStep });
    this.teleport(target, this.walker.yaw * DEGREES, 0);
    this.announceZone(zone);
  }

  /** Says where the resident is ("where am I"): asked for, so said again even if just said. */
  whereAmI() {
    if (!this.walker) return;
    this.updateLocation(false);
    if (this.zone) this.announceZone(this.zone, { repeat: true });
    else this.announcer.say(this.i18n.t('places.outsideAnnounce'), { repeat: true });
  }

  announceZone(zone, options = {}) {
    const name = this.i18n.pickWithLang(zone.name);
    const description = this.i18n.pickWithLang(zone.description);
    this.announcer.say(
      [this.i18n.t('places.youAreIn'), { text: `${name.text}:`, lang: name.lang }, description],
      options,
    );
  }

  /** Works out the zone the walker is in; shows it, and names it when walking into a new one. */
  updateLocation(announce) {
    if (!this.walker || !this.manifest) return;
    const zone = zoneAt(this.manifest.zones, [this.walker.x, this.walker.y, this.walker.z]);
    if (zone === this.zone) return;
    this.zone = zone;
    this.mirror?.setLocation(zone);
    if (announce && zone) {
      const name = this.i18n.pickWithLang(zone.name);
      this.announcer.say([this.i18n.t('places.nowIn'), { text: name.text, lang: name.lang }]);
    }
  }

  /** Resolves after the next frame has been simulated (twice, so a key-up between frames is included). */
  nextFrame(frames = 2) {
    if (this.mode === 'text') return this.ready.then(() => this.state());
    if (!this.viewer) return this.ready.then(() => this.nextFrame(frames));
    return new Promise((resolve) => this.frameWaiters.push({ frames, resolve }));
  }

  /** What tests and other modules read of the room, whether or not a connection or a 3D view exists. */
  presenceFacade() {
    const app = this;
    return {
      get id() {
        return app.connection?.id ?? null;
      },
      get connected() {
        return Boolean(app.connection?.connected);
      },
      get status() {
        return app.connection?.status ?? 'idle';
      },
      members: () => app.connection?.members() ?? [],
      remote: () =>
        (app.avatars?.list() ?? []).map((a) => ({ ...a, yaw: a.yaw * DEGREES })),
    };
  }

  // --- hotspots -----------------------------------------------------------------------------------

  /** The hotspot store, its list in the mirror and its panel (3D and text mode alike). */
  setUpHotspots() {
    const { doc, i18n, announcer } = this;
    const hotspots = (this.hotspotStore = new Hotspots({ sceneId: this.sceneId }));
    this.hotspotPanel = new HotspotPanel(doc, { i18n, announcer, hotspots });
    this.hotspotSection = doc.getElementById('hotspots');
    this.hotspotEmpty = doc.getElementById('hotspots-empty');
    this.hotspotList = new MirrorList(doc, doc.getElementById('hotspot-list'), {
      i18n,
      describe: false,
      onChoose: (item, button) => this.openHotspot(item.id, { opener: button, go: true }),
      decorate: (item, li) => this.decorateHotspotItem(item.hotspot, li),
    });
    hotspots.on('reset', () => {
      this.renderHotspotList();
      this.markers?.sync(hotspots.list());
      this.viewer?.invalidate();
    });
    hotspots.on('change', ({ action, hotspot, previous }) => {
      this.renderHotspotList();
      if (action === 'delete') this.markers?.remove(hotspot.id);
      else this.markers?.set(hotspot);
      this.viewer?.invalidate();
      const title = i18n.pickWithLang(hotspot.title);
      const key = action === 'delete' ? 'hotspots.removedAnnounce' : previous ? null : 'hotspots.addedAnnounce';
      // Staff hear their own changes from the editor; residents hear what appears and goes.
      if (key && !this.editor) announcer.say([i18n.t(key), { text: title.text, lang: title.lang }]);
    });
    if (this.connection) hotspots.attach(this.connection);
    this.hotspotsLoaded = hotspots.load().catch((error) => {
      this.hotspotEmpty.textContent = i18n.t('hotspots.loadFailed', { message: error.message });
      this.hotspotSection.hidden = false;
    });
    this.setUpStaff();
  }

  renderHotspotList() {
    if (!this.hotspotList) return;
    const list = this.hotspotStore.list();
    this.hotspotList.render(list.map((hotspot) => ({ id: hotspot.id, name: hotspot.title, hotspot })));
    this.hotspotEmpty.hidden = list.length > 0;
    if (this.hotspotStore.loaded) this.hotspotSection.hidden = false;
  }

  /** Under each hotspot's button: its kind and the place it is in; in edit mode, "Edit". */
  decorateHotspotItem(hotspot, li) {
    const { doc, i18n } = this;
    const line = doc.createElement('p');
    line.className = 'mirror-description mirror-extra';
    line.id = `hotspot-${hotspot.id}-description`;
    const kind = doc.createElement('span');
    kind.className = `kind-tag kind-${hotspot.kind}`;
    kind.textContent = i18n.t(`hotspot.kind.${hotspot.kind}`);
    line.append(kind);
    const zone = zoneAt(this.manifest.zones, hotspot.position);
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
  openHotspot(id, { opener = null, go = false } = {}) {
    const hotspot = this.hotspotStore?.get(id);
    if (!hotspot) return false;
    if (go) this.goToHotspot(hotspot);
    this.hotspotPanel.open(hotspot, opener || this.doc.activeElement);
    return true;
  }

  /** Jump cut to about 2 m in front of a hotspot, on walkable floor, facing it. */
  goToHotspot(hotspotOrId) {
    const hotspot = typeof hotspotOrId === 'object' ? hotspotOrId : this.hotspotStore?.get(hotspotOrId);
    if (!hotspot || !this.walker) return;
    this.tour?.stop();
    const w = this.walker;
    const spot = standingSpot(hotspot, this.grid, { from: [w.x, w.y, w.z], eyeHeight: w.eyeHeight, maxStep: w.maxStep });
    this.teleport(spot.position, spot.yaw, spot.pitch);
  }

  /** The name of the zone holding a point, or "outside the named places" (the editor's form). */
  placeName(position) {
    const zone = zoneAt(this.manifest?.zones, position);
    return zone ? this.i18n.pick(zone.name) : this.i18n.t('hotspots.noPlace');
  }

  focusHotspotList(id = null) {
    const button = id != null ? this.hotspotList?.buttons.get(id) : null;
    if (button) button.focus();
    else if (!this.hotspotList?.focus()) this.doc.getElementById('hotspots-title').focus();
  }

  async setUpMarkers() {
    const { HotspotMarkers, surfaceAt } = await import('./hotspot-markers.js');
    this.surfaceAtFn = surfaceAt;
    this.markers = new HotspotMarkers(this.viewer.scene, {
      labelOf: (hotspot) => this.i18n.pick(hotspot.title),
      reducedMotion: this.prefs.reducedMotion,
    });
    this.markers.sync(this.hotspotStore.list());
  }

  /** Page pixels -> normalised device coordinates of the 3D view. */
  ndcOf(event, locked) {
    if (locked) return { x: 0, y: 0 }; // pointer lock: the click is at the centre of the view
    const rect = this.ui.canvas.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) / rect.width) * 2 - 1, y: -(((event.clientY - rect.top) / rect.height) * 2 - 1) };
  }

  /** A click on the 3D view: the editor's (edit mode), else a marker's panel. True when used. */
  onClickView(event, locked) {
    if (!this.viewer) return false;
    const ndc = this.ndcOf(event, locked);
    if (this.editor?.onViewClick(ndc)) return true;
    const id = this.pickHotspot(ndc);
    if (id == null) return false;
    if (locked) this.doc.exitPointerLock?.();
    return this.openHotspot(id, { opener: this.ui.view });
  }

  pickHotspot(ndc) {
    return this.markers && this.viewer ? this.markers.pick(ndc, this.viewer.camera, this.viewer.model) : null;
  }

  /** The scene's surface under `ndc` ({0, 0}: straight ahead of the eyes): {point, normal} or null. */
  surfaceAt(ndc) {
    if (!this.viewer?.model || !this.surfaceAtFn) return null;
    this.syncCamera();
    this.viewer.camera.updateMatrixWorld();
    return this.surfaceAtFn(this.viewer.model, this.viewer.camera, ndc);
  }

  hotspotsFacade() {
    const app = this;
    return {
      get loaded() {
        return Boolean(app.hotspotStore?.loaded);
      },
      list: () => app.hotspotStore?.list() ?? [],
      markers: () => app.markers?.list() ?? [],
      open: (id) => app.openHotspot(id),
      goTo: (id) => app.goToHotspot(id),
      panelOpen: () => Boolean(app.hotspotPanel?.isOpen),
      screenPoint: (id) => {
        if (!app.markers || !app.viewer) return null;
        app.viewer.camera.updateMatrixWorld();
        const p = app.markers.screenPoint(id, app.viewer.camera);
        if (!p) return null;
        const rect = app.ui.canvas.getBoundingClientRect();
        return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
      },
    };
  }

  // --- staff ---------------------------------------------------------------------------------------

  setUpStaff() {
    const { doc, i18n, announcer, session } = this;
    const link = doc.getElementById('staff-signin');
    const section = doc.getElementById('staff');
    const who = doc.getElementById('staff-who');
    const toggle = doc.getElementById('edit-toggle');
    const place = doc.getElementById('place-here');
    const signOut = doc.getElementById('sign-out');
    const dialog = new SignInDialog(doc, {
      i18n,
      announcer,
      session,
      onSignedIn: (user) => (session.canEdit ? toggle : signOut).focus(),
    });
    link.addEventListener('click', () => dialog.open(link));
    toggle.addEventListener('click', async () => {
      const editor = await this.editorReady;
      if (!editor) return; // not an editor, or the editor failed to load (already said)
      editor.setEditing(!editor.editing);
      announcer.say(i18n.t(editor.editing ? 'editor.on' : 'editor.off'));
    });
    place.addEventListener('click', async () => (await this.editorReady)?.placeHere(place));
    signOut.addEventListener('click', async () => {
      await session.signOut().catch(() => {});
      announcer.say(i18n.t('staff.signedOut'));
      link.focus();
    });
    session.onChange((user) => {
      section.hidden = !user;
      doc.getElementById('staff-signin-item').hidden = Boolean(user);
      toggle.hidden = !session.canEdit;
      if (user) who.textContent = i18n.t('staff.signedInAs', { name: user.username, role: i18n.t(`staff.role.${user.role}`) });
      if (session.canEdit && !this.editorReady) {
        // Resolves to the editor, or to null when it could not be loaded (said once, here): the buttons
        // that await it then do nothing instead of leaving an unhandled rejection.
        this.editorReady = import('./editor.js')
          .then(({ Editor }) => (this.editor = new Editor(this, session)))
          .catch((error) => {
            announcer.say(i18n.t('editor.error', { message: error.message }));
            return null;
          });
      } else if (!session.canEdit && this.editorReady) {
        this.editorReady.then((editor) => {
          editor?.destroy();
          if (this.editor === editor) this.editor = null; // signed out while it was still loading
        }).catch(() => {});
        this.editorReady = null;
        this.editor = null;
        this.renderHotspotList();
      }
    });
    session.restore();
  }

  staffFacade() {
    const app = this;
    return {
      user: () => app.session.user,
      editing: () => Boolean(app.editor?.editing),
    };
  }

  /** Joins the room of this scene; the 3D view never waits for it. */
  startPresence() {
    const params = new URLSearchParams(location.search);
    const instance = Math.max(1, Math.min(999, Number.parseInt(params.get('instance'), 10) || 1));
    const connection = (this.connection = new Presence({
      sceneId: this.sceneId,
      instance,
      getPose: () => {
        const w = this.walker;
        return w ? { x: w.x, y: w.y, z: w.z, yaw: w.yaw, pitch: w.pitch } : null;
      },
    }));
    this.presencePanel = new PresencePanel(this.doc, this.i18n, this.announcer, connection, {
      prefs: this.prefs,
      onNamesVisible: (visible) => {
        this.namesVisible = visible;
        this.avatars?.setNamesVisible(visible);
        this.viewer?.invalidate();
      },
    });
    connection.on('welcome', (info) => {
      this.avatars?.setTickRate(info.tickHz);
      if (info.instance !== instance || params.has('instance')) {
        // Keep the overflow instance on reload and when the link is shared.
        const url = new URL(location.href);
        url.searchParams.set('instance', String(info.instance));
        history.replaceState(history.state, '', url);
      }
    });
    connection.on('members', (members) => this.syncAvatars(members));
    connection.on('frame', (frame) => this.avatars?.push(frame));
    addEventListener('pagehide', () => connection.close());
    // Back from the browser's back/forward cache: the page is alive again, so is its place in the room.
    addEventListener('pageshow', (event) => {
      if (event.persisted) connection.reconnectNow();
    });
    connection.connect();
  }

  syncAvatars(members = this.connection?.members() ?? []) {
    if (!this.avatars) return;
    this.avatars.setMembers(members, this.connection.id);
    this.viewer.invalidate();
  }

  async setUpAvatars() {
    const { Avatars } = await import('./avatars.js'); // already fetched with the viewer's modules
    this.avatars = new Avatars(this.viewer.scene, { tickHz: this.connection?.tickHz });
    this.avatars.setNamesVisible(this.namesVisible ?? true);
    this.syncAvatars();
  }

  async start() {
    const prefs = (this.prefs = Prefs.load());
    prefs.applyTo(this.doc);
    prefs.onChange(() => {
      prefs.applyTo(this.doc);
      this.applyScenePrefs();
    });
    const { mode, reason } = chooseMode(prefs);
    this.mode = mode;
    this.doc.body.dataset.mode = mode;
    // Start downloading three.js at once, in parallel with the manifest; never in text mode.
    const modules =
      mode === '3d'
        ? Promise.all([import('./viewer.js'), import('./scene-loader.js'), import('./avatars.js'), import('./hotspot-markers.js')])
        : null;
    modules?.catch(() => {});

    const [i18n, manifest] = await Promise.all([
      I18n.load(pickLanguage(location.search, navigator.languages || [navigator.language], prefs.get('lang'))),
      this.sceneId ? api.scene(this.sceneId).catch((error) => ({ error })) : { error: missingSceneError() },
    ]);
    this.i18n = i18n;
    i18n.apply(this.doc);
    this.announcer = new Announcer(this.doc.getElementById('announcer'));
    const ui = (this.ui = new SceneUI(this.doc, i18n, this.announcer));
    setUpChrome({ doc: this.doc, i18n, prefs, mode, scene: true });

    try {
      if (manifest.error) throw manifest.error;
      this.manifest = manifest;
      ui.showScene(manifest);
      this.setUpAccessibleLayer();
      this.startPresence();
      this.setUpHotspots();
      if (mode === 'text') {
        this.setUpWalker(null);
        ui.showTextMode(reason);
        this.resolveReady(this.state());
        return;
      }
      // The slow link carries the scene while three.js is still arriving (downloads.js needs no three).
      const downloads = Promise.all([
        downloadAsset(manifest.asset, (fraction) => ui.setProgress(fraction)),
        downloadWalkGrid(manifest.walkable).catch((error) => {
          console.warn('Walking without collision:', error.message);
          return null;
        }),
      ]);
      downloads.catch(() => {}); // reported below, once the viewer exists
      const [{ Viewer }, { SceneLoader, countTriangles }] = await modules;
      let viewer;
      try {
        viewer = this.viewer = new Viewer(ui.canvas, ui.view);
      } catch {
        // WebGL 2 was there for the probe but not for the renderer: the text version still works.
        this.mode = this.doc.body.dataset.mode = 'text';
        this.setUpWalker(null);
        ui.showTextMode('no-webgl');
        this.resolveReady(this.state());
        return;
      }
      viewer.warmUp(); // compiles shaders while the scene is still arriving
      performance.mark('civic:warmed');
      const [glb, grid] = await downloads;
      performance.mark('civic:downloaded');
      const gltf = await new SceneLoader().parseAsset(glb, manifest.asset.url);
      performance.mark('civic:parsed');
      viewer.setModel(gltf.scene);
      this.triangles = countTriangles(gltf.scene);
      this.grid = grid;
      this.setUpWalker(grid);
      this.applyScenePrefs();
      await this.setUpAvatars();
      await this.setUpMarkers();
      this.setUpControls();
      this.syncCamera();
      await viewer.prepare();
      performance.mark('civic:compiled');
      viewer.render();
      performance.mark('civic:rendered');
      viewer.start((dt, time) => this.frame(dt, time));
      ui.showReady();
      this.resolveReady(this.state());
    } catch (error) {
      ui.showError(error);
      this.rejectReady(error);
    }
  }

  setUpWalker(grid) {
    const walkable = this.manifest.walkable || {};
    this.spawn = (this.manifest.spawn && this.manifest.spawn[0]) || { position: [0, 0, 0], yaw: 0 };
    this.walker = new Walker({
      grid,
      maxStep: walkable.maxStep ?? DEFAULT_MAX_STEP,
      maxDrop: walkable.maxDrop ?? DEFAULT_MAX_DROP,
    });
    this.walker.placeAt(this.spawn.position, this.spawn.yaw || 0, this.spawn.pitch || 0);
    this.applyScenePrefs();
    this.updateLocation(false);
  }

  /** Movement speed, reduced motion and the high-contrast palette, from the preferences. */
  applyScenePrefs() {
    const prefs = this.prefs;
    if (this.walker) {
      this.walker.speedFactor = prefs.get('moveSpeed');
      this.walker.easeEye = !prefs.reducedMotion;
    }
    this.markers?.setReducedMotion(prefs.reducedMotion);
    this.viewer?.setHighContrast(prefs.highContrast);
  }

  /** The mirror of the zones, the guided tour, the shortcuts and the help dialog (3D and text mode). */
  setUpAccessibleLayer() {
    const { doc, i18n, announcer, manifest, ui } = this;
    this.mirror = new Mirror(doc, {
      i18n,
      zones: manifest.zones || [],
      onZone: (zone) => this.goToZone(zone),
      onWhereAmI: () => this.whereAmI(),
    });
    this.tour = new Tour(doc, {
      i18n,
      announcer,
      stops: manifest.tour || [],
      goTo: (stop) => this.teleport(stop.position, stop.yaw || 0, stop.pitch || 0),
      placeName: (stop) => {
        const zone = zoneAt(manifest.zones, stop.position);
        return zone ? i18n.pickWithLang(zone.name) : null;
      },
    });
    if (this.mode === 'text') ui.putContentFirst();
    const focusView = () => (this.mode === '3d' && !ui.view.hidden ? ui.view.focus() : this.mirror.zones.focus());
    this.shortcuts = new Shortcuts(doc, this.prefs, {
      help: () => this.help.open(doc.activeElement),
      whereAmI: () => this.whereAmI(),
      entrance: () => this.goToEntrance(),
      places: () => this.mirror.zones.focus(),
      view: focusView,
      tourPlay: () => this.tour.toggle(),
      tourPrev: () => this.tour.previous(),
      tourNext: () => this.tour.next(),
      names: () => this.presencePanel?.toggleNames(),
    });
    this.help = new HelpDialog(doc, i18n, this.shortcuts);
    const helpButton = doc.getElementById('help-button');
    helpButton.addEventListener('click', () => this.help.open(helpButton));
    // Esc in the mirror or the tour goes back to the 3D view (focus into the panels, and back).
    for (const section of [this.mirror.section, this.tour.section]) {
      section.addEventListener('keydown', (event) => {
        if (event.key === 'Escape' && this.mode === '3d' && !ui.view.hidden) {
          event.preventDefault();
          ui.view.focus();
        }
      });
    }
    ui.entranceButton.addEventListener('click', () => this.goToEntrance());
  }

  setUpControls() {
    const { ui } = this;
    const view = ui.view;
    const look = (dYaw, dPitch) => {
      this.walker.look(dYaw, dPitch);
      this.viewDirty = true;
    };
    this.keyboard = new KeyboardControls(view, {
      onAction: (name) => {
        if (name === 'entrance') this.goToEntrance();
        else if (name === 'names') this.presencePanel?.toggleNames();
      },
    });
    this.pointer = new PointerControls(view, {
      look,
      onLockChange: (locked) => ui.setHint({ locked }),
      onClickView: (event, locked) => this.onClickView(event, locked),
    });
    this.touch = new TouchControls(view, ui.joystick, {
      look,
      onFirstTouch: () => ui.setHint({ touch: true }),
    });
    view.addEventListener('focus', () => ui.setHint({ focused: true, locked: this.pointer.locked }));
    view.addEventListener('blur', () => ui.setHint({ focused: false, locked: this.pointer.locked }));
  }

  frame(dt, time) {
    const intent = this.intent.reset();
    this.keyboard.read(intent, time);
    this.touch.read(intent);
    if (this.tour?.playing && (intent.forward || intent.strafe || intent.turn || intent.look)) this.tour.pause();
    const moved = this.walker.update(dt, intent);
    if (moved || this.viewDirty) this.syncCamera();
    if (moved && time - this.lastLocationCheck > LOCATION_CHECK_MS) {
      this.lastLocationCheck = time;
      this.updateLocation(true);
    }
    if (this.avatars?.update(time)) this.viewer.invalidate();
    if (this.markers?.update(time, this.viewer.camera)) this.viewer.invalidate();
    if (this.frameWaiters.length) {
      this.frameWaiters = this.frameWaiters.filter((waiter) => --waiter.frames > 0 || void waiter.resolve(this.state()));
    }
  }

  syncCamera() {
    const w = this.walker;
    this.viewer.setView(w.x, w.eyeY, w.z, w.yaw, w.pitch);
    this.viewDirty = false;
  }
}

/** The scene id of `/scenes/{id}`, or `?scene=` when the page is opened some other way. */
export function sceneIdFromLocation({ pathname, search }) {
  const match = /^\/scenes\/([^/]+)\/?$/.exec(pathname);
  if (match) return decodeURIComponent(match[1]);
  return new URLSearchParams(search).get('scene');
}

function missingSceneError() {
  return { code: 'scene_not_found', message: 'No scene was named in the address.' };
}

const app = new CivicSpaceApp();
window.civicSpace = app;
app.start();
