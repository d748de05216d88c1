// App — the scene page's start-up (web/scene.html, after boot.js), in order and nothing else:
// preferences and mode -> three.js starts downloading (3D only) -> language and manifest -> page chrome ->
// navigation and keys -> the room -> hotspots -> staff -> text mode, or: viewer, scene, walker, the 3D
// parts, first frame. Each part is a module given the few things it needs, never the whole page:
//
//   navigation.js   where the resident is, jumps (entrance, places, tour stops, hotspots), the mirror, the tour
//   page-keys.js    shortcuts, the help dialog, Esc back to the view
//   room.js         the room connection, people / chat / settings panels, avatars (3D)
//   hotspot-view.js the hotspot store, list, panel, markers (3D) and picking
//   staff-ui.js     staff sign-in and the lazily loaded editor
//   event-panel.js  a public meeting (`?event=<id>`, loaded only then): panel, caption bar and wall (3D)
//   walk-view.js    the controls and the frame loop (3D)
//   facade.js       `window.civicSpace`, what scripts and the browser tests read (its shape is documented there)
//
// Invariants: three.js (and the 3D asset and walkable grid) are only downloaded in 3D mode, which needs
// WebGL 2 — text mode (`?mode=text`, the remembered switch, Save-Data) never fetches them; the walker is
// the single source of truth for the pose (text mode has a walker too, without a floor grid: zones and
// tour stops still say where the resident is, and others see them there); presence is optional; hotspots
// come over HTTP and then live from the room; the staff editor is only downloaded for a signed-in editor.

import { Announcer } from './announcer.js';
import { api } from './api.js';
import { createFacade } from './facade.js';
import { FrameWaiters } from './frame-waiters.js';
import { HotspotView } from './hotspot-view.js';
import { I18n, pickLanguage } from './i18n.js';
import { chooseMode } from './mode.js';
import { Navigation } from './navigation.js';
import { sceneIdFromLocation } from './page-address.js';
import { setUpPageKeys } from './page-keys.js';
import { Prefs } from './prefs.js';
import { RoomView } from './room.js';
import { setUpChrome } from './site.js';
import { StaffUI } from './staff-ui.js';
import { SceneUI } from './ui.js';
import { Walker } from './walker.js';

const DEFAULT_MAX_STEP = 0.35;
const DEFAULT_MAX_DROP = 1.0;

/** Builds the page's parts into `parts` (read by the facade as they appear); resolves when interactive. */
async function start(parts) {
  const { doc, sceneId } = parts;
  let viewer = null;
  const prefs = Prefs.load();
  const applyScenePrefs = () => {
    // Movement speed, reduced motion and the high-contrast palette.
    if (parts.walker) {
      parts.walker.speedFactor = prefs.get('moveSpeed');
      parts.walker.easeEye = !prefs.reducedMotion;
    }
    parts.hotspotView?.setReducedMotion(prefs.reducedMotion);
    viewer?.setHighContrast(prefs.highContrast);
  };
  prefs.applyTo(doc);
  prefs.onChange(() => {
    prefs.applyTo(doc);
    applyScenePrefs();
  });
  const { mode, reason } = chooseMode(prefs);
  const params = new URLSearchParams(location.search);
  parts.mode = doc.body.dataset.mode = mode;
  // Start downloading three.js at once, in parallel with the manifest; never in text mode.
  const modules =
    mode === '3d'
      ? Promise.all([import('./viewer.js'), import('./scene-loader.js'), import('./avatars.js'), import('./hotspot-markers.js'), import('./walk-view.js')])
      : null;
  const downloader = mode === '3d' ? import('./downloads.js') : null; // the walking and downloads: 3D only too
  // A meeting (?event=<id>) brings its panel; pages without one never fetch it.
  const eventId = /^[0-9]{1,12}$/.test(params.get('event') || '') ? params.get('event') : null;
  const eventModule = eventId ? import('./event-panel.js') : null;
  modules?.catch(() => {});
  downloader?.catch(() => {}); // reported where awaited
  eventModule?.catch(() => {});

  const [i18n, manifest] = await Promise.all([
    I18n.load(pickLanguage(location.search, navigator.languages || [navigator.language], prefs.get('lang'))),
    sceneId ? api.scene(sceneId).catch((error) => ({ error })) : { error: missingSceneError() },
  ]);
  i18n.apply(doc);
  const announcer = (parts.announcer = new Announcer(doc.getElementById('announcer')));
  const ui = new SceneUI(doc, i18n, announcer);
  setUpChrome({ doc, i18n, prefs, mode, scene: true });

  try {
    if (manifest.error) throw manifest.error;
    ui.showScene(manifest);
    const navigation = (parts.navigation = new Navigation(doc, {
      i18n,
      announcer,
      manifest,
      onJump: () => parts.walkView?.jumped(),
    }));
    if (mode === 'text') ui.putContentFirst();
    const room = (parts.room = new RoomView(doc, {
      i18n,
      announcer,
      prefs,
      sceneId,
      getPose: () => {
        const w = parts.walker;
        return w ? { x: w.x, y: w.y, z: w.z, yaw: w.yaw, pitch: w.pitch } : null;
      },
    }));
    setUpPageKeys(doc, { prefs, i18n, ui, navigation, in3d: () => parts.mode === '3d', toggleNames: () => room.toggleNames() });
    ui.entranceButton.addEventListener('click', () => navigation.goToEntrance());
    const hotspotView = (parts.hotspotView = new HotspotView(doc, { i18n, announcer, sceneId, connection: room.connection, navigation }));
    parts.staff = new StaffUI(doc, { i18n, announcer, sceneId, hotspotView, setViewHint: (text) => ui.setEditHint(text) });
    // Zones and tour stops staff changed while this page was open (loaded only when it happens).
    room.connection.on('places', (message) => {
      import('./places-live.js').then(({ applyPlaces }) => applyPlaces(navigation, message));
      if (message.walkable || message.spawn) import('./walk-live.js').then(({ applyWalkable }) => applyWalkable(parts, message));
    });
    // The walkable floor and spawn points (walk-editor.js; its boxes in 3D: walk-paint-view.js): for a staff
    // editor in edit mode only, downloaded then.
    parts.walkable = manifest.walkable || null;
    const editWalk = async () => {
      const { session } = parts.staff;
      if (!session.canEdit) {
        parts.walkEditor?.destroy();
        parts.walkEditor = null;
        return;
      }
      const on = doc.body.dataset.editing === 'true';
      if (!on && !parts.walkEditor) return;
      const { WalkEditor } = await import('./walk-editor.js');
      parts.walkEditor ??= new WalkEditor({
        doc,
        i18n,
        announcer,
        session,
        sceneId,
        navigation,
        grid: () => parts.walkable,
        bounds: manifest.bounds || null,
        onChanged: (listing) => import('./walk-live.js').then(({ applyWalkable }) => applyWalkable(parts, listing)),
        setViewHint: (text) => ui.setEditHint(text), // "walk, then press Enter" while a corner waits
        view3d: async () => {
          if (!viewer) return null;
          const { PaintBoxes } = await import('./walk-paint-view.js');
          return new PaintBoxes(viewer.scene, () => viewer.invalidate(), (count) => (ui.canvas.dataset.walkPaints = String(count)));
        },
      });
      await parts.walkEditor.setEditing(doc.body.dataset.editing === 'true');
    };
    new MutationObserver(() => editWalk().catch(() => {})).observe(doc.body, { attributeFilter: ['data-editing'] });
    parts.staff.session.onChange(() => editWalk().catch(() => {}));

    if (eventModule) {
      const { EventPanel } = await eventModule;
      parts.eventPanel = new EventPanel(doc, { i18n, announcer, eventId, getName: () => room.connection.name || room.connection.savedName() });
    }

    const walkable = manifest.walkable || {};
    // `?at=<zone>` (a meeting's "Join" link): start in that zone instead of at the entrance.
    const startZone = (manifest.zones || []).find((zone) => zone.id === params.get('at')) || null;
    const placeWalker = (grid) => {
      parts.walker = new Walker({ grid, maxStep: walkable.maxStep ?? DEFAULT_MAX_STEP, maxDrop: walkable.maxDrop ?? DEFAULT_MAX_DROP });
      navigation.setWalker(parts.walker, grid);
      if (startZone) navigation.goToZone(startZone);
      applyScenePrefs();
    };
    const textOnly = (why) => {
      parts.mode = doc.body.dataset.mode = 'text';
      placeWalker(null);
      ui.showTextMode(why);
    };
    if (mode === 'text') return textOnly(reason);

    // The slow link carries the scene while three.js is still arriving (downloads.js needs no three).
    const { downloadAsset, downloadWalkGrid } = await downloader;
    const downloads = Promise.all([
      downloadAsset(manifest.asset, (fraction) => ui.setProgress(fraction)),
      downloadWalkGrid(manifest.walkable).catch((error) => {
        console.warn('Walking without collision:', error.message);
        return null;
      }),
    ]);
    downloads.catch(() => {}); // reported below, once the viewer exists
    const [{ Viewer }, { SceneLoader, countTriangles }, , , { WalkView }] = await modules;
    try {
      viewer = new Viewer(ui.canvas, ui.view);
    } catch {
      return textOnly('no-webgl'); // WebGL 2 was there for the probe but not for the renderer
    }
    viewer.warmUp(); // compiles shaders while the scene is still arriving
    performance.mark('civic:warmed');
    const [glb, grid] = await downloads;
    performance.mark('civic:downloaded');
    const gltf = await new SceneLoader().parseAsset(glb, manifest.asset.url);
    performance.mark('civic:parsed');
    viewer.setModel(gltf.scene);
    parts.triangles = countTriangles(gltf.scene);
    placeWalker(grid);
    const walkView = new WalkView({
      viewer,
      walker: parts.walker,
      ui,
      navigation,
      animated: [room, hotspotView],
      frames: parts.frames,
      onAction: (name) => {
        if (name === 'entrance') navigation.goToEntrance();
        else if (name === 'names') room.toggleNames();
      },
      onClickView: (event, locked) => hotspotView.clickView(event, locked),
    });
    parts.walkView = walkView;
    const invalidate = () => viewer.invalidate();
    await room.show3D({ scene: viewer.scene, invalidate });
    await parts.eventPanel?.show3D({ scene: viewer.scene, invalidate, zone: startZone, zones: manifest.zones || [] });
    await hotspotView.show3D({
      scene: viewer.scene,
      camera: viewer.camera,
      view: ui.view,
      canvas: ui.canvas,
      model: () => viewer.model,
      invalidate,
      syncCamera: () => walkView.syncCamera(),
      reducedMotion: prefs.reducedMotion,
    });
    await viewer.prepare();
    performance.mark('civic:compiled');
    viewer.render();
    performance.mark('civic:rendered');
    walkView.start();
    ui.showReady();
  } catch (error) {
    ui.showError(error);
    if (error?.code !== 'scene_preparing') throw error; // being prepared is a state the page handles, not a fault
  }
}

function missingSceneError() {
  return { code: 'scene_not_found', message: 'No scene was named in the address.' };
}

const parts = { doc: document, sceneId: sceneIdFromLocation(location), mode: '3d', triangles: 0, frames: new FrameWaiters() };
let settle;
const ready = new Promise((resolve, reject) => (settle = { resolve, reject }));
ready.catch(() => {}); // a failed load is shown on the page, not an unhandled rejection
const facade = (window.civicSpace = createFacade(parts, ready));
start(parts).then(() => settle.resolve(facade.state()), settle.reject);
