// TouchControls — walking on phones and tablets: a virtual joystick in the bottom-left corner
// moves, a drag anywhere else in the view turns and tilts the camera.
//
// Invariants: only touch and pen pointers are handled (the mouse belongs to PointerControls);
// the joystick is an analog axis (|vector| <= 1) that returns to rest when its finger lifts;
// the joystick element appears once a touch is seen or on coarse-pointer devices.

const RADIANS_PER_PIXEL = 0.005;

export class TouchControls {
  /**
   * @param {HTMLElement} target the 3D view
   * @param {HTMLElement} joystick the joystick base element (contains `.joystick-knob`)
   * @param {{look: (dYaw: number, dPitch: number) => void, onFirstTouch?: () => void}} options
   */
  constructor(target, joystick, { look, onFirstTouch = () => {} }) {
    this.target = target;
    this.joystick = joystick;
    this.knob = joystick.querySelector('.joystick-knob');
    this.look = look;
    this.onFirstTouch = onFirstTouch;
    this.stick = null; // {id, cx, cy, radius}
    this.lookers = new Map(); // pointerId -> {x, y}
    this.vector = { x: 0, y: 0 };
    if (window.matchMedia && window.matchMedia('(pointer: coarse)').matches) this.show();

    target.addEventListener('pointerdown', (event) => this.onDown(event));
    target.addEventListener('pointermove', (event) => this.onMove(event));
    target.addEventListener('pointerup', (event) => this.onUp(event));
    target.addEventListener('pointercancel', (event) => this.onUp(event));
  }

  show() {
    if (this.shown) return;
    this.shown = true;
    this.joystick.hidden = false;
    this.onFirstTouch();
  }

  onDown(event) {
    if (event.pointerType === 'mouse') return;
    this.show();
    const base = this.joystick.getBoundingClientRect();
    const cx = base.left + base.width / 2;
    const cy = base.top + base.height / 2;
    const radius = base.width / 2;
    const inStick = Math.hypot(event.clientX - cx, event.clientY - cy) <= radius * 1.4;
    if (inStick && !this.stick) {
      this.stick = { id: event.pointerId, cx, cy, radius };
      this.updateStick(event);
    } else {
      this.lookers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    }
    this.target.setPointerCapture?.(event.pointerId);
    event.preventDefault();
  }

  onMove(event) {
    if (this.stick && this.stick.id === event.pointerId) {
      this.updateStick(event);
      return;
    }
    const last = this.lookers.get(event.pointerId);
    if (!last) return;
    this.look((event.clientX - last.x) * RADIANS_PER_PIXEL, (event.clientY - last.y) * RADIANS_PER_PIXEL);
    last.x = event.clientX;
    last.y = event.clientY;
  }

  onUp(event) {
    if (this.stick && this.stick.id === event.pointerId) {
      this.stick = null;
      this.vector = { x: 0, y: 0 };
      this.knob.style.transform = '';
    }
    this.lookers.delete(event.pointerId);
  }

  updateStick(event) {
    const { cx, cy, radius } = this.stick;
    let dx = (event.clientX - cx) / radius;
    let dy = (event.clientY - cy) / radius;
    const length = Math.hypot(dx, dy);
    if (length > 1) {
      dx /= length;
      dy /= length;
    }
    this.vector = { x: dx, y: dy };
    this.knob.style.transform = `translate(${dx * radius * 0.6}px, ${dy * radius * 0.6}px)`;
  }

  /** Adds the joystick's axes to the intent (walking pace at full push). */
  read(intent) {
    const { x, y } = this.vector;
    if (!x && !y) return;
    intent.forward = Math.max(-1, Math.min(1, intent.forward - y));
    intent.strafe = Math.max(-1, Math.min(1, intent.strafe + x));
  }
}
