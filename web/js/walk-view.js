// WalkView — the 3D view in motion: the keyboard, pointer and touch controls on the view, and the frame
// (the controls' intent -> the walker -> the camera), with what else moves each frame (avatars, markers),
// the "Now in…" check while walking, and the frame waiters tests use (`civicSpace.nextFrame()`).
//
// Given the few things it needs: the viewer (camera pose, redraws), the walker, the scene UI (the view,
// its hint and the joystick), the navigation (its tour pauses when the resident takes over, and it says
// where they are), the parts animated each frame, and the page's actions (entrance, name tags, a click).
// Invariants: the walker is the single source of truth for the pose, the camera only copies it; a frame
// asks for a redraw only when something visible changed; after a jump (`jumped()`) key time from before
// the jump never moves the walker.

import { KeyboardControls } from './controls-keyboard.js';
import { PointerControls } from './controls-pointer.js';
import { TouchControls } from './controls-touch.js';
import { Intent } from './walker.js';

const LOCATION_CHECK_MS = 400; // how often walking checks whether the resident entered another zone

export class WalkView {
  /**
   * @param {{viewer: import('./viewer.js').Viewer, walker: import('./walker.js').Walker,
   *          ui: import('./ui.js').SceneUI, navigation: import('./navigation.js').Navigation,
   *          animated: Array<{update: (time: number) => boolean}>, frames: import('./frame-waiters.js').FrameWaiters,
   *          onAction: (name: string) => void, onClickView: (event, locked: boolean) => boolean}} options
   */
  constructor({ viewer, walker, ui, navigation, animated, frames, onAction, onClickView }) {
    Object.assign(this, { viewer, walker, navigation, animated, frames });
    this.intent = new Intent();
    this.viewDirty = true;
    this.lastLocationCheck = 0;
    const view = ui.view;
    const look = (dYaw, dPitch) => {
      walker.look(dYaw, dPitch);
      this.viewDirty = true;
    };
    this.keyboard = new KeyboardControls(view, { onAction });
    this.pointer = new PointerControls(view, {
      look,
      onLockChange: (locked) => ui.setHint({ locked }),
      onClickView,
    });
    this.touch = new TouchControls(view, ui.joystick, {
      look,
      onFirstTouch: () => ui.setHint({ touch: true }),
    });
    view.addEventListener('focus', () => ui.setHint({ focused: true, locked: this.pointer.locked }));
    view.addEventListener('blur', () => ui.setHint({ focused: false, locked: this.pointer.locked }));
    this.syncCamera();
  }

  /** The walker was placed somewhere else (a jump cut): forget held key time, redraw. */
  jumped() {
    this.keyboard.discardPending(); // key time from before the jump must not move the walker after it
    this.viewDirty = true;
  }

  start() {
    this.viewer.start((dt, time) => this.frame(dt, time));
  }

  frame(dt, time) {
    const { walker, viewer, navigation } = this;
    const intent = this.intent.reset();
    this.keyboard.read(intent, time);
    this.touch.read(intent);
    const tour = navigation.tour;
    if (tour.playing && (intent.forward || intent.strafe || intent.turn || intent.look)) tour.pause();
    const moved = walker.update(dt, intent);
    if (moved || this.viewDirty) this.syncCamera();
    if (moved && time - this.lastLocationCheck > LOCATION_CHECK_MS) {
      this.lastLocationCheck = time;
      navigation.updateLocation(true);
    }
    for (const part of this.animated) {
      if (part.update(time)) viewer.invalidate();
    }
    this.frames.tick();
  }

  syncCamera() {
    const w = this.walker;
    this.viewer.setView(w.x, w.eyeY, w.z, w.yaw, w.pitch);
    this.viewDirty = false;
  }
}
