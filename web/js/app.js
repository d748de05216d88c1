// App — entry point of web/scene.html. Wires the manifest, i18n, page UI, 3D viewer, asset
// loader, walker and controls together, and exposes the ONE app object `window.civicSpace`:
//
//   civicSpace.ready        Promise: resolves when the scene is interactive, rejects on error/no WebGL
//   civicSpace.state()      {position: [x, y, z] (feet, metres), yaw, pitch (degrees), sceneId, triangles, status}
//   civicSpace.goToEntrance()  back to spawn[0], announced
//   civicSpace.teleport([x, y, z], yawDeg, pitchDeg)  jump cut (tour stops, zones, tests)
//   civicSpace.nextFrame()  Promise resolved after the next simulated frame (so a test that released a
//                           key reads a state that includes the whole hold, even at 3 frames a second)
//   civicSpace.presence     the room: `id`, `connected`, `members()` [{id, name}], `remote()`
//                           [{id, name, position: [x, y, z] (feet, metres), yaw (degrees)}] as rendered
//
// `document.body.dataset.state` mirrors the outcome: loading | ready | error | no-webgl.
// Invariants: three.js (and the 3D asset) are only downloaded when WebGL 2 is available; the
// walker is the single source of truth for the pose, the camera only copies it; presence is
// optional — the roster and chat work without WebGL, and walking works without a connection.

import { Announcer } from './announcer.js';
import { api } from './api.js';
import { downloadAsset, downloadWalkGrid } from './downloads.js';
import { KeyboardControls } from './controls-keyboard.js';
import { PointerControls } from './controls-pointer.js';
import { TouchControls } from './controls-touch.js';
import { I18n, pickLanguage } from './i18n.js';
import { Presence } from './presence.js';
import { PresencePanel } from './presence-ui.js';
import { SceneUI } from './ui.js';
import { Intent, Walker } from './walker.js';
import { hasWebGL2 } from './webgl-support.js';

const DEFAULT_MAX_STEP = 0.35;
const DEFAULT_MAX_DROP = 1.0;
const DEGREES = 180 / Math.PI;

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
    this.presence = this.presenceFacade();
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
    };
  }

  goToEntrance() {
    if (!this.walker) return;
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
  }

  /** Resolves after the next frame has been simulated (twice, so a key-up between frames is included). */
  nextFrame(frames = 2) {
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
    const webgl = hasWebGL2();
    // Start downloading three.js at once, in parallel with the manifest; never without WebGL.
    const modules = webgl
      ? Promise.all([import('./viewer.js'), import('./scene-loader.js'), import('./avatars.js')])
      : null;
    modules?.catch(() => {});

    const [i18n, manifest] = await Promise.all([
      I18n.load(pickLanguage()),
      this.sceneId ? api.scene(this.sceneId).catch((error) => ({ error })) : { error: missingSceneError() },
    ]);
    this.i18n = i18n;
    i18n.apply(this.doc);
    this.announcer = new Announcer(this.doc.getElementById('announcer'));
    const ui = (this.ui = new SceneUI(this.doc, i18n, this.announcer));

    try {
      if (manifest.error) throw manifest.error;
      this.manifest = manifest;
      ui.showScene(manifest);
      this.startPresence();
      if (!webgl) {
        ui.showNoWebGL();
        this.rejectReady(new Error('no-webgl'));
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
        ui.showNoWebGL();
        this.rejectReady(new Error('no-webgl'));
        return;
      }
      const [glb, grid] = await downloads;
      performance.mark('civic:downloaded');
      const gltf = await new SceneLoader().parseAsset(glb, manifest.asset.url);
      performance.mark('civic:parsed');
      viewer.setModel(gltf.scene);
      this.triangles = countTriangles(gltf.scene);
      this.setUpWalker(grid);
      await this.setUpAvatars();
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
    });
    this.touch = new TouchControls(view, ui.joystick, {
      look,
      onFirstTouch: () => ui.setHint({ touch: true }),
    });
    view.addEventListener('focus', () => ui.setHint({ focused: true, locked: this.pointer.locked }));
    view.addEventListener('blur', () => ui.setHint({ focused: false, locked: this.pointer.locked }));
    ui.entranceButton.addEventListener('click', () => this.goToEntrance());
  }

  frame(dt, time) {
    const intent = this.intent.reset();
    this.keyboard.read(intent, time);
    this.touch.read(intent);
    const moved = this.walker.update(dt, intent);
    if (moved || this.viewDirty) this.syncCamera();
    if (this.avatars?.update(time)) this.viewer.invalidate();
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
