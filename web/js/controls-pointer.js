// PointerControls — mouse-look for the 3D view.
//
// Clicking the view asks for Pointer Lock; while locked, mouse movement turns the view and Esc
// (handled by the browser) releases it. Where Pointer Lock is missing or refused (headless
// browsers, iframes, some kiosks), dragging with a mouse button held turns the view instead.
// A click that is not a drag is first offered to `onClickView(event, locked)` (a hotspot marker, the
// editor placing one); when it returns true, the click was used and the pointer is not locked.
// Invariants: only mouse pointers are handled here (touch and pen belong to TouchControls);
// a refused lock never throws or logs — it just falls back to dragging.

const RADIANS_PER_PIXEL = 0.0025;

export class PointerControls {
  /**
   * @param {HTMLElement} target the 3D view
   * @param {{look: (dYaw: number, dPitch: number) => void, onLockChange?: (locked: boolean) => void,
   *          onClickView?: (event: MouseEvent, locked: boolean) => boolean}} options
   */
  constructor(target, { look, onLockChange = () => {}, onClickView = () => false }) {
    this.target = target;
    this.look = look;
    this.onLockChange = onLockChange;
    this.onClickView = onClickView;
    this.dragging = null;
    this.lockSupported = typeof target.requestPointerLock === 'function';

    target.addEventListener('click', (event) => this.onClick(event));
    target.addEventListener('pointerdown', (event) => this.onPointerDown(event));
    target.addEventListener('pointermove', (event) => this.onPointerMove(event));
    target.addEventListener('pointerup', (event) => this.onPointerUp(event));
    target.addEventListener('pointercancel', (event) => this.onPointerUp(event));
    document.addEventListener('mousemove', (event) => this.onMouseMove(event));
    document.addEventListener('pointerlockchange', () => this.onLockChange(this.locked));
    document.addEventListener('pointerlockerror', () => {
      this.lockSupported = false;
    });
  }

  get locked() {
    return document.pointerLockElement === this.target;
  }

  onClick(event) {
    if (this.dragged) return;
    if (event.target.closest && event.target.closest('button, a, input, details')) return;
    if (this.onClickView(event, this.locked)) return;
    if (!this.lockSupported || this.locked) return;
    try {
      const result = this.target.requestPointerLock();
      if (result && typeof result.catch === 'function') {
        result.catch(() => {
          this.lockSupported = false;
        });
      }
    } catch {
      this.lockSupported = false;
    }
  }

  onMouseMove(event) {
    if (!this.locked) return;
    this.look(-event.movementX * RADIANS_PER_PIXEL, -event.movementY * RADIANS_PER_PIXEL);
  }

  // Drag-to-look fallback (no pointer lock): mouse only.
  onPointerDown(event) {
    this.dragged = false;
    if (event.pointerType !== 'mouse' || this.locked || event.button !== 0) return;
    this.dragging = { id: event.pointerId, x: event.clientX, y: event.clientY, distance: 0 };
  }

  onPointerMove(event) {
    const drag = this.dragging;
    if (!drag || drag.id !== event.pointerId || this.locked) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    drag.x = event.clientX;
    drag.y = event.clientY;
    drag.distance += Math.abs(dx) + Math.abs(dy);
    if (drag.distance > 4) {
      this.dragged = true; // a drag, not a click: do not ask for the lock on release
      this.look(-dx * RADIANS_PER_PIXEL, -dy * RADIANS_PER_PIXEL);
    }
  }

  onPointerUp(event) {
    if (this.dragging && this.dragging.id === event.pointerId) this.dragging = null;
  }
}
