// App — entry point of web/scene.html. Wires the manifest, i18n, page UI, 3D viewer, asset
// loader, walker and controls together, and exposes the ONE app object `window.civicSpace`:
//
//   civicSpace.ready        Promise: resolves when the scene is interactive, rejects on error/no WebGL
//   civicSpace.state()      {position: [x, y, z] (feet, metres), yaw, pitch (degrees), sceneId, triangles, status}
//   civicSpace.goToEntrance()  back to spawn[0], announced
//   civicSpace.teleport([x, y, z], yawDeg, pitchDeg)  jump cut (tour stops, zones, tests)
//   civicSpace.nextFrame()  Promise resolved after the next simulated frame (so a test that released a
//                           key reads a state that includes the whole hold, even at 3 frames a second)
//
// `document.body.dataset.state` mirrors the outcome: loading | ready | error | no-webgl.
// Invariants: three.js (and the 3D asset) are only downloaded when WebGL 2 is available; the
// walker is the single source of truth for the pose, the camera only copies it.

import { Announcer } from './announcer.js';
import { api } from './api.js';
import { KeyboardControls } from './controls-keyboard.js';
import { PointerControls } from './controls-pointer.js';
import { TouchControls } from './controls-touch.js';
import { I18n, pickLanguage } from './i18n.js';
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

  async start() {
    const webgl = hasWebGL2();
    // Start downloading three.js at once, in parallel with the manifest; never without WebGL.
    const modules = webgl ? Promise.all([import('./viewer.js'), import('./scene-loader.js')]) : null;
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
      if (!webgl) {
        ui.showNoWebGL();
        this.rejectReady(new Error('no-webgl'));
        return;
      }
      const [{ Viewer }, { SceneLoader, countTriangles }] = await modules;
      let viewer;
      try {
        viewer = this.viewer = new Viewer(ui.canvas, ui.view);
      } catch {
        ui.showNoWebGL();
        this.rejectReady(new Error('no-webgl'));
        return;
      }
      const loader = new SceneLoader();
      const [gltf, grid] = await Promise.all([
        loader.loadAsset(manifest.asset, (fraction) => ui.setProgress(fraction)),
        loader.loadWalkGrid(manifest.walkable).catch((error) => {
          console.warn('Walking without collision:', error.message);
          return null;
        }),
      ]);
      viewer.setModel(gltf.scene);
      this.triangles = countTriangles(gltf.scene);
      this.setUpWalker(grid);
      this.setUpControls();
      this.syncCamera();
      await viewer.prepare();
      viewer.render();
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
