// Walker — a first-person body walking on a WalkGrid: position of the feet, yaw, pitch,
// and the movement and collision rules. Pure (no three.js, no DOM): controls write an Intent,
// the app copies the result onto the camera.
//
// Angles are radians inside (yaw 0 looks toward -Z, positive turns left, like three.js
// rotation.y; pitch positive looks up). Invariants: `y` is always a floor height the walker
// stands on (or the spawn height when there is no floor under the spawn point); one move
// sub-step never exceeds MAX_SUBSTEP metres, so a walker cannot tunnel through a one-cell wall
// however low the frame rate; `eyeY` only eases toward `y + eyeHeight` (stairs feel smooth,
// collision stays exact).

import { MAX_DROP, MAX_STEP } from './walk-grid.js';

const MAX_SUBSTEP = 0.1; // metres; below half the usual 0.25 m cell
const MAX_PITCH = (85 * Math.PI) / 180;
const EYE_EASE_RATE = 12; // 1/s: the eye covers ~70 % of a step in 0.1 s

/** What the controls ask for during one frame. Axes are in [-1, 1]. */
export class Intent {
  constructor() {
    this.reset();
  }

  reset() {
    this.forward = 0; // +1 forward, -1 back
    this.strafe = 0; // +1 right, -1 left
    this.turn = 0; // +1 turns left (yaw grows)
    this.look = 0; // +1 looks up
    this.run = false;
    return this;
  }
}

export class Walker {
  constructor({
    grid = null,
    maxStep = MAX_STEP,
    maxDrop = MAX_DROP,
    eyeHeight = 1.6,
    radius = 0.25,
    walkSpeed = 1.4,
    runSpeed = 3.0,
    turnSpeed = Math.PI / 2, // rad/s for keyboard turning
    lookSpeed = Math.PI / 3, // rad/s for keyboard looking up/down
  } = {}) {
    Object.assign(this, { grid, maxStep, maxDrop, eyeHeight, radius, walkSpeed, runSpeed, turnSpeed, lookSpeed });
    this.x = 0;
    this.y = 0;
    this.z = 0;
    this.yaw = 0;
    this.pitch = 0;
    this.eyeY = eyeHeight;
    this.supported = false; // is there a floor under the feet?
    this.speedFactor = 1; // the resident's movement speed preference (walking, running, turning)
    this.easeEye = true; // false with reduced motion: the eye jumps to the new floor height
  }

  /** Puts the walker at a spawn point: position [x, y, z] of the feet, yaw/pitch in degrees. */
  placeAt(position, yawDeg = 0, pitchDeg = 0) {
    const [x, y, z] = position;
    const floor = this.grid ? this.grid.landingHeight(x, z, y, this.maxStep, this.maxDrop) : null;
    this.x = x;
    this.z = z;
    this.y = floor ?? y; // no floor under the spawn point: stay at the spawn height
    this.supported = floor !== null;
    this.yaw = (yawDeg * Math.PI) / 180;
    this.pitch = clampPitch((pitchDeg * Math.PI) / 180);
    this.eyeY = this.y + this.eyeHeight; // no easing on a teleport
  }

  /** Turns the view by deltas in radians (mouse, touch). */
  look(dYaw, dPitch) {
    this.yaw = wrapAngle(this.yaw + dYaw);
    this.pitch = clampPitch(this.pitch + dPitch);
  }

  /**
   * Advances by dt seconds following the intent. Returns true when anything visible changed
   * (position, angles or eye height), so the caller can skip rendering still frames.
   */
  update(dt, intent) {
    const { x, z, yaw, pitch, eyeY } = this;
    if (intent.turn) this.yaw = wrapAngle(this.yaw + intent.turn * this.turnSpeed * this.speedFactor * dt);
    if (intent.look) this.pitch = clampPitch(this.pitch + intent.look * this.lookSpeed * dt);

    let forward = intent.forward;
    let strafe = intent.strafe;
    const magnitude = Math.hypot(forward, strafe);
    if (magnitude > 1) {
      forward /= magnitude;
      strafe /= magnitude;
    }
    if (magnitude > 0) {
      const speed = (intent.run ? this.runSpeed : this.walkSpeed) * this.speedFactor;
      const sin = Math.sin(this.yaw);
      const cos = Math.cos(this.yaw);
      // forward = (-sin, -cos), right = (cos, -sin) in (x, z)
      const vx = (-sin * forward + cos * strafe) * speed;
      const vz = (-cos * forward - sin * strafe) * speed;
      const distance = Math.hypot(vx, vz) * dt;
      const steps = Math.max(1, Math.ceil(distance / MAX_SUBSTEP));
      for (let i = 0; i < steps; i++) this.tryMove((vx * dt) / steps, (vz * dt) / steps);
    }

    const target = this.y + this.eyeHeight;
    const gap = target - this.eyeY;
    this.eyeY = Math.abs(gap) < 1e-3 || !this.easeEye ? target : this.eyeY + gap * (1 - Math.exp(-EYE_EASE_RATE * dt));
    return x !== this.x || z !== this.z || yaw !== this.yaw || pitch !== this.pitch || eyeY !== this.eyeY;
  }

  /** One collision-checked step of (dx, dz) metres; slides along walls. Returns true if it moved. */
  tryMove(dx, dz) {
    if (this.moveTo(this.x + dx, this.z + dz, dx, dz)) return true;
    if (dx && dz) return this.moveTo(this.x + dx, this.z, dx, 0) || this.moveTo(this.x, this.z + dz, 0, dz);
    return false;
  }

  moveTo(nx, nz, dx, dz) {
    const floor = this.standingHeight(nx, nz, dx, dz);
    if (floor === undefined) return false;
    this.x = nx;
    this.z = nz;
    if (floor !== null) {
      this.y = floor;
      this.supported = true;
    }
    return true;
  }

  /**
   * The feet height after moving to (nx, nz) in direction (dx, dz): a number (land there),
   * null (move allowed, height kept: no grid, or walking off-grid from an unsupported spawn),
   * or undefined (blocked).
   */
  standingHeight(nx, nz, dx, dz) {
    const grid = this.grid;
    if (!grid) return null;
    const h = this.y;
    const floor = grid.landingHeight(nx, nz, h, this.maxStep, this.maxDrop);
    if (!this.supported) return floor; // spawned without a floor: roam freely until one is found
    if (floor === null) return undefined;
    // The body's leading edge, one radius ahead, must also be standable — judged from the floor the
    // walker lands on (on stairs it is often a step further up than the current feet).
    const length = Math.hypot(dx, dz);
    if (length > 0) {
      const px = nx + (dx / length) * this.radius;
      const pz = nz + (dz / length) * this.radius;
      if (grid.landingHeight(px, pz, floor, this.maxStep, this.maxDrop) === null) return undefined;
    }
    return floor;
  }
}

function clampPitch(pitch) {
  return Math.max(-MAX_PITCH, Math.min(MAX_PITCH, pitch));
}

function wrapAngle(angle) {
  const tau = 2 * Math.PI;
  return ((((angle + Math.PI) % tau) + tau) % tau) - Math.PI;
}
