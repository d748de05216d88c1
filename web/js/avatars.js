// Avatars — the other residents in the 3D view: a body, a head with a visor and a nose that show where
// they face, a colour derived from their id, and a name tag (a canvas-texture sprite: the name is drawn
// as pixels, never HTML). Motion is smoothed by snapshot interpolation.
//
// Interpolation: every FRAME carries the server's tick number; ticks are unwrapped (u16) into server
// milliseconds and mapped onto the local clock by the lowest observed offset (slowly relaxed, so a stall
// does not leave us behind forever). Each avatar renders `delay` ms in the past (100 ms, more for far
// avatars the server sends less often), lerping position and turning yaw the short way round; past its
// newest snapshot it extrapolates for at most EXTRAPOLATE_MS, then holds.
// Invariants: geometries and body materials are shared by all avatars (one material per palette
// colour); each avatar owns exactly one sprite, one canvas texture and one sprite material, all
// disposed on removal; an avatar is only shown once a pose for it has arrived.

import {
  CanvasTexture,
  ConeGeometry,
  Group,
  LatheGeometry,
  LinearFilter,
  Mesh,
  MeshStandardMaterial,
  SphereGeometry,
  SRGBColorSpace,
  Sprite,
  SpriteMaterial,
  Vector2,
} from '../vendor/three.js';

const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 500;
const EXTRAPOLATE_MS = 250;
const MAX_SNAPSHOTS = 32;
const OFFSET_RELAX = 0.02; // per frame received: how fast a raised latency floor is accepted

// Twelve colours far apart in hue and readable against stone and sky (body colour per member).
const PALETTE = [
  '#d1495b', '#2e86ab', '#f0a202', '#3a9d5d', '#8e5fb5', '#e0762f',
  '#1b998b', '#c2437f', '#5c6bc0', '#7a9e1f', '#b5651d', '#2f4858',
];

const HEAD_RADIUS = 0.13;
const HEAD_Y = 1.62;
const TAG_Y = 2.02;
const TAG_HEIGHT = 0.22; // metres
const TAG_FONT_PX = 44;

/** The palette index of a member id (neighbouring ids get distinct colours). */
export function colorIndex(id) {
  return (Math.imul(id, 2654435761) >>> 0) % PALETTE.length;
}

export function colorOf(id) {
  return PALETTE[colorIndex(id)];
}

/** Shortest signed angle from a to b, radians. */
export function angleDelta(a, b) {
  const tau = 2 * Math.PI;
  let d = (b - a) % tau;
  if (d > Math.PI) d -= tau;
  if (d < -Math.PI) d += tau;
  return d;
}

class Shared {
  constructor() {
    // Body: a turned silhouette (legs, hips, waist, chest, shoulders, neck), flattened front to back so
    // the shoulders read from afar and the outline alone hints at the facing direction.
    const profile = [
      [0.0, 0.0], [0.13, 0.0], [0.15, 0.1], [0.16, 0.78], [0.18, 0.92], [0.165, 1.05], [0.2, 1.26],
      [0.215, 1.36], [0.17, 1.43], [0.07, 1.47], [0.055, 1.5], [0.0, 1.5],
    ].map(([r, y]) => new Vector2(r, y));
    this.body = new LatheGeometry(profile, 18);
    this.body.scale(1, 1, 0.68);
    this.body.computeVertexNormals();
    this.head = new SphereGeometry(HEAD_RADIUS, 16, 12);
    this.head.translate(0, HEAD_Y, 0);
    // Visor: a band of a slightly larger sphere round the front of the head (the front is -Z).
    const arc = Math.PI * 0.8;
    this.visor = new SphereGeometry(HEAD_RADIUS * 1.06, 16, 4, (3 * Math.PI) / 2 - arc / 2, arc, Math.PI * 0.36, Math.PI * 0.2);
    this.visor.translate(0, HEAD_Y, 0);
    // Nose: a small cone pointing forward, below the visor.
    this.nose = new ConeGeometry(0.035, 0.09, 8);
    this.nose.rotateX(-Math.PI / 2);
    this.nose.translate(0, HEAD_Y - 0.045, -HEAD_RADIUS - 0.03);
    this.skin = new MeshStandardMaterial({ color: '#d8b594', roughness: 0.75 });
    this.visorMaterial = new MeshStandardMaterial({ color: '#1c2430', roughness: 0.25, metalness: 0.3 });
    this.bodies = PALETTE.map((color) => new MeshStandardMaterial({ color, roughness: 0.7 }));
  }

  dispose() {
    for (const thing of [this.body, this.head, this.visor, this.nose, this.skin, this.visorMaterial, ...this.bodies]) {
      thing.dispose();
    }
  }
}

class Avatar {
  constructor(id, name, shared, namesVisible) {
    this.id = id;
    this.snapshots = []; // {t (server ms), x, y, z, yaw}, oldest first
    this.delay = BASE_DELAY_MS;
    this.group = new Group();
    this.group.name = `avatar-${id}`;
    this.group.visible = false; // until its first pose
    const body = new Mesh(shared.body, shared.bodies[colorIndex(id)]);
    const head = new Mesh(shared.head, shared.skin);
    const visor = new Mesh(shared.visor, shared.visorMaterial);
    const nose = new Mesh(shared.nose, shared.skin);
    this.group.add(body, head, visor, nose);
    this.tagMaterial = new SpriteMaterial({ transparent: true, depthWrite: false });
    this.tag = new Sprite(this.tagMaterial);
    this.tag.position.y = TAG_Y;
    this.tag.renderOrder = 10;
    this.tag.visible = namesVisible;
    this.group.add(this.tag);
    this.rendered = null; // {x, y, z, yaw} as last drawn
    this.setName(name);
  }

  setName(name) {
    if (name === this.name) return;
    this.name = name;
    const old = this.tagMaterial.map;
    const { canvas, aspect } = drawTag(name, colorOf(this.id));
    const texture = new CanvasTexture(canvas);
    texture.colorSpace = SRGBColorSpace;
    texture.minFilter = LinearFilter;
    texture.generateMipmaps = false;
    this.tagMaterial.map = texture;
    this.tagMaterial.needsUpdate = true;
    this.tag.scale.set(TAG_HEIGHT * aspect, TAG_HEIGHT, 1);
    old?.dispose();
  }

  push(snapshot) {
    const list = this.snapshots;
    const last = list[list.length - 1];
    if (last && snapshot.t <= last.t) return; // duplicate or out of order
    if (last) {
      // Far avatars come every 2nd–8th tick: render far enough back to have two snapshots around.
      const gap = snapshot.t - last.t;
      const target = Math.min(MAX_DELAY_MS, Math.max(BASE_DELAY_MS, gap * 1.25));
      this.delay += (target - this.delay) * (target > this.delay ? 0.5 : 0.1);
    }
    list.push(snapshot);
    if (list.length > MAX_SNAPSHOTS) list.splice(0, list.length - MAX_SNAPSHOTS);
  }

  /** Pose at server time t, or null when there is none yet. */
  sample(t) {
    const list = this.snapshots;
    if (!list.length) return null;
    if (t <= list[0].t) return list[0]; // older than everything we have: hold the oldest
    let i = 0;
    while (i + 1 < list.length && list[i + 1].t <= t) i++;
    if (i > 1) {
      list.splice(0, i - 1); // keep one snapshot before `a`, for extrapolation
      i = 1;
    }
    const a = list[i];
    const b = list[i + 1];
    if (!b) return extrapolate(list[i - 1], a, t);
    const f = (t - a.t) / (b.t - a.t);
    return {
      x: a.x + (b.x - a.x) * f,
      y: a.y + (b.y - a.y) * f,
      z: a.z + (b.z - a.z) * f,
      yaw: wrap(a.yaw + angleDelta(a.yaw, b.yaw) * f),
    };
  }

  /** Places the group at server time t; true when something visible moved. */
  update(t) {
    const pose = this.sample(t);
    if (!pose) return false;
    const r = this.rendered;
    if (r && r.x === pose.x && r.y === pose.y && r.z === pose.z && r.yaw === pose.yaw) return false;
    this.rendered = { x: pose.x, y: pose.y, z: pose.z, yaw: pose.yaw };
    this.group.position.set(pose.x, pose.y, pose.z);
    this.group.rotation.y = pose.yaw;
    this.group.visible = true;
    return true;
  }

  dispose() {
    this.tagMaterial.map?.dispose();
    this.tagMaterial.dispose();
  }
}

/** Past the newest snapshot `last`: continue its velocity for at most EXTRAPOLATE_MS, then hold. */
function extrapolate(before, last, t) {
  if (!before || last.t <= before.t) return last;
  const f = Math.min(t - last.t, EXTRAPOLATE_MS) / (last.t - before.t);
  return {
    x: last.x + (last.x - before.x) * f,
    y: last.y, // never float up or sink on stairs: height only changes with real snapshots
    z: last.z + (last.z - before.z) * f,
    yaw: wrap(last.yaw + angleDelta(before.yaw, last.yaw) * f),
  };
}

/** An angle brought into [-π, π]. */
function wrap(angle) {
  return angleDelta(0, angle);
}

/** A name tag: white bold text on a dark rounded plate with a stripe of the member's colour. */
function drawTag(name, color) {
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d');
  const font = `700 ${TAG_FONT_PX}px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif`;
  context.font = font;
  const padX = 22;
  const height = Math.round(TAG_FONT_PX * 1.6);
  const width = Math.ceil(Math.min(context.measureText(name).width, 720) + padX * 2 + 12);
  canvas.width = width;
  canvas.height = height;
  context.font = font; // resizing resets the context
  context.fillStyle = 'rgba(20, 32, 46, 0.86)';
  roundRect(context, 0, 0, width, height, height / 2.6);
  context.fill();
  context.fillStyle = color;
  roundRect(context, 10, height * 0.25, 8, height * 0.5, 4);
  context.fill();
  context.fillStyle = '#ffffff';
  context.textBaseline = 'middle';
  context.textAlign = 'left';
  context.fillText(name, padX + 10, height / 2 + 2, width - padX * 2 - 10);
  return { canvas, aspect: width / height };
}

function roundRect(context, x, y, width, height, radius) {
  context.beginPath();
  context.moveTo(x + radius, y);
  context.arcTo(x + width, y, x + width, y + height, radius);
  context.arcTo(x + width, y + height, x, y + height, radius);
  context.arcTo(x, y + height, x, y, radius);
  context.arcTo(x, y, x + width, y, radius);
  context.closePath();
}

export class Avatars {
  /** @param {import('../vendor/three.js').Object3D} parent usually the viewer's scene */
  constructor(parent, { tickHz = 20 } = {}) {
    this.parent = parent;
    this.shared = new Shared();
    this.avatars = new Map(); // id -> Avatar
    this.names = new Map(); // id -> name: who is in the room (avatars are made on their first pose)
    this.selfId = null;
    this.namesVisible = true;
    this.setTickRate(tickHz);
    this.resetClock();
  }

  setTickRate(hz) {
    this.tickMs = 1000 / (hz > 0 ? hz : 20);
  }

  resetClock() {
    this.lastTick = null;
    this.serverTick = 0;
    this.offset = null; // local ms - server ms, lower envelope
  }

  /** Everyone in the room ([{id, name}]) and who we are; avatars of those who left are removed. */
  setMembers(members, selfId) {
    this.selfId = selfId;
    this.names = new Map(members.filter((m) => m.id !== selfId).map((m) => [m.id, m.name]));
    for (const id of [...this.avatars.keys()]) {
      if (!this.names.has(id)) this.remove(id);
    }
    for (const [id, name] of this.names) this.avatars.get(id)?.setName(name);
    if (!this.names.size) this.resetClock();
  }

  remove(id) {
    const avatar = this.avatars.get(id);
    if (!avatar) return;
    this.parent.remove(avatar.group);
    avatar.dispose();
    this.avatars.delete(id);
  }

  clear() {
    for (const id of [...this.avatars.keys()]) this.remove(id);
    this.names.clear();
    this.resetClock();
  }

  /** A decoded frame from Presence: {tick, receivedAt (performance.now ms), avatars: [{id, x, y, z, yaw}]} */
  push({ tick, receivedAt, avatars }) {
    const t = this.unwrap(tick);
    if (t === null) return;
    const sample = receivedAt - t;
    if (this.offset === null || sample < this.offset) this.offset = sample;
    else this.offset += (sample - this.offset) * OFFSET_RELAX;
    for (const pose of avatars) {
      const name = this.names.get(pose.id);
      if (name === undefined) continue; // not (or no longer) in the roster
      let avatar = this.avatars.get(pose.id);
      if (!avatar) {
        avatar = new Avatar(pose.id, name, this.shared, this.namesVisible);
        this.avatars.set(pose.id, avatar);
        this.parent.add(avatar.group);
      }
      avatar.push({ t, x: pose.x, y: pose.y, z: pose.z, yaw: pose.yaw });
    }
  }

  /** Server milliseconds of a u16 tick; null for a frame older than the newest one. */
  unwrap(tick) {
    if (this.lastTick === null) {
      this.lastTick = tick;
      this.serverTick = tick;
    } else {
      let delta = (tick - this.lastTick) & 0xffff;
      if (delta >= 0x8000) delta -= 0x10000;
      if (delta < 0) return null;
      this.lastTick = tick;
      this.serverTick += delta;
    }
    return this.serverTick * this.tickMs;
  }

  /** Moves every avatar to its interpolated pose for local time `now`; true when anything moved. */
  update(now = performance.now()) {
    if (this.offset === null) return false;
    const serverNow = now - this.offset;
    let moved = false;
    for (const avatar of this.avatars.values()) {
      if (avatar.update(serverNow - avatar.delay)) moved = true;
    }
    return moved;
  }

  setNamesVisible(visible) {
    this.namesVisible = visible;
    for (const avatar of this.avatars.values()) avatar.tag.visible = visible;
  }

  /** [{id, name, position: [x, y, z], yaw (radians)}] as currently drawn. */
  list() {
    const out = [];
    for (const avatar of this.avatars.values()) {
      const r = avatar.rendered;
      if (r) out.push({ id: avatar.id, name: avatar.name, position: [r.x, r.y, r.z], yaw: r.yaw });
    }
    return out;
  }

  dispose() {
    this.clear();
    this.shared.dispose();
  }
}
