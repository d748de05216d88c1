// Avatars — the other residents in the 3D view: low-poly people (legs, torso, arms, hands, head, hair on the
// back of the head and a nose, so the way they face reads at a glance), clothes in a colour derived from
// their id, a soft contact shadow under their feet, and a name tag (a canvas-texture sprite: the name is
// drawn as pixels, never HTML). Motion is smoothed by snapshot interpolation.
//
// Drawing: every body is an instance of three InstancedMeshes shared by all avatars (clothes, coloured per
// instance; skin, hair, trousers and shoes in vertex colours, tinted per instance with a skin tone; the
// shadow), so a crowd costs three draw calls plus its name tags. Instances are packed: an avatar takes a
// slot with its first pose, and on removal the last slot moves into the hole (`Slots`).
//
// Interpolation: every FRAME carries the server's tick number; ticks are unwrapped (u16) into server
// milliseconds and mapped onto the local clock by the lowest observed offset (slowly relaxed, so a stall
// does not leave us behind forever). Each avatar renders `delay` ms in the past (100 ms, more for far
// avatars the server sends less often), lerping position and turning yaw the short way round; past its
// newest snapshot it extrapolates for at most EXTRAPOLATE_MS, then holds.
// Invariants: geometries and materials are shared by all avatars; each avatar owns exactly one sprite, one
// canvas texture and one sprite material, all disposed on removal; an avatar is only shown once a pose for
// it has arrived.

import {
  BufferAttribute,
  BufferGeometry,
  CanvasTexture,
  CircleGeometry,
  Color,
  ConeGeometry,
  CylinderGeometry,
  DynamicDrawUsage,
  Euler,
  Group,
  InstancedMesh,
  LinearFilter,
  Matrix4,
  MeshBasicMaterial,
  MeshStandardMaterial,
  Quaternion,
  SphereGeometry,
  SRGBColorSpace,
  Sprite,
  SpriteMaterial,
  Vector3,
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

// Skin tones, multiplied into the body's vertex colours (one per member, independent of the clothes).
const SKIN_TONES = ['#f1c9a5', '#e0ac84', '#c68b62', '#a56b45', '#7a4c2e', '#f6d7bd'];

const HEAD_Y = 1.6;
const TAG_Y = 2.0;
const TAG_HEIGHT = 0.22; // metres
const TAG_FONT_PX = 44;
const INITIAL_SLOTS = 16;

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

/** Pieces of a body in one geometry with per-vertex colours (r, g, b in 0..1), each [geometry, colour]. */
export function mergeParts(parts) {
  let vertices = 0;
  let indices = 0;
  for (const [geometry] of parts) {
    vertices += geometry.attributes.position.count;
    indices += geometry.index ? geometry.index.count : geometry.attributes.position.count;
  }
  const position = new Float32Array(vertices * 3);
  const normal = new Float32Array(vertices * 3);
  const color = new Float32Array(vertices * 3);
  const index = new Uint16Array(indices);
  let v = 0;
  let i = 0;
  for (const [geometry, rgb] of parts) {
    const count = geometry.attributes.position.count;
    position.set(geometry.attributes.position.array, v * 3);
    normal.set(geometry.attributes.normal.array, v * 3);
    for (let k = 0; k < count; k++) color.set(rgb, (v + k) * 3);
    const source = geometry.index ? geometry.index.array : Array.from({ length: count }, (_, k) => k);
    for (let k = 0; k < source.length; k++) index[i + k] = source[k] + v;
    v += count;
    i += source.length;
    geometry.dispose();
  }
  const merged = new BufferGeometry();
  merged.setAttribute('position', new BufferAttribute(position, 3));
  merged.setAttribute('normal', new BufferAttribute(normal, 3));
  merged.setAttribute('color', new BufferAttribute(color, 3));
  merged.setIndex(new BufferAttribute(index, 1));
  return merged;
}

/** Dense instance slots: add(key) gives the next slot; remove(key) returns {from, to} when the last slot
 * moved into the freed one (the caller copies that instance), or null. */
export class Slots {
  constructor() {
    this.keys = []; // slot -> key
    this.slots = new Map(); // key -> slot
  }

  get size() {
    return this.keys.length;
  }

  slotOf(key) {
    return this.slots.get(key);
  }

  add(key) {
    if (this.slots.has(key)) return this.slots.get(key);
    this.keys.push(key);
    this.slots.set(key, this.keys.length - 1);
    return this.keys.length - 1;
  }

  remove(key) {
    const slot = this.slots.get(key);
    if (slot === undefined) return null;
    this.slots.delete(key);
    const last = this.keys.length - 1;
    const moved = this.keys.pop();
    if (slot === last) return null;
    this.keys[slot] = moved;
    this.slots.set(moved, slot);
    return { from: last, to: slot };
  }
}

function part(geometry, { x = 0, y = 0, z = 0, sx = 1, sy = 1, sz = 1, rx = 0, rz = 0 } = {}) {
  geometry.scale(sx, sy, sz);
  if (rx) geometry.rotateX(rx);
  if (rz) geometry.rotateZ(rz);
  geometry.translate(x, y, z);
  return geometry;
}

/** One body, feet at the origin, facing -Z: [clothes geometry, everything-else geometry]. */
function bodyGeometries() {
  const white = [1, 1, 1];
  const trousers = [0.16, 0.17, 0.2];
  const shoes = [0.07, 0.06, 0.06];
  const hair = [0.2, 0.14, 0.1];
  const clothes = mergeParts([
    [part(new CylinderGeometry(0.19, 0.155, 0.6, 12, 1, true), { y: 1.12, sz: 0.6 }), white], // torso
    [part(new SphereGeometry(0.19, 12, 4, 0, Math.PI * 2, 0, Math.PI / 2), { y: 1.42, sy: 0.45, sz: 0.6 }), white],
    [part(new CylinderGeometry(0.155, 0.155, 0.08, 12), { y: 0.8, sz: 0.6 }), white], // hips, where the trousers start
    ...[-1, 1].map((side) => [
      part(new CylinderGeometry(0.052, 0.044, 0.6, 8), { x: side * 0.235, y: 1.13, rz: side * 0.07 }), white]),
  ]);
  const rest = mergeParts([
    ...[-1, 1].map((side) => [part(new CylinderGeometry(0.07, 0.055, 0.8, 8), { x: side * 0.085, y: 0.42 }),
      trousers]),
    ...[-1, 1].map((side) => [part(new SphereGeometry(0.06, 8, 4), { x: side * 0.085, y: 0.035, z: -0.04,
      sy: 0.6, sz: 1.7 }), shoes]),
    ...[-1, 1].map((side) => [part(new SphereGeometry(0.045, 8, 6), { x: side * 0.258, y: 0.8 }), white]),
    [part(new CylinderGeometry(0.05, 0.055, 0.12, 8), { y: 1.48 }), white], // neck
    [part(new SphereGeometry(0.112, 14, 10), { y: HEAD_Y, sx: 0.92, sy: 1.12 }), white], // head
    // Hair: a cap over the top and the back of the head; the face stays bare, so the front reads.
    [part(new SphereGeometry(0.12, 14, 8, 0, Math.PI * 2, 0, Math.PI * 0.58), { y: HEAD_Y + 0.01, sx: 0.94,
      sy: 1.12, rx: 0.5 }), hair],
    [part(new ConeGeometry(0.024, 0.06, 6), { y: HEAD_Y - 0.01, z: -0.112, rx: -Math.PI / 2 }), white], // nose
  ]);
  return [clothes, rest];
}

class Crowd {
  /** Instanced bodies of every avatar; `capacity` grows by doubling. */
  constructor(parent) {
    this.parent = parent;
    const [clothes, rest] = bodyGeometries();
    const shadow = new CircleGeometry(0.3, 16);
    shadow.rotateX(-Math.PI / 2);
    shadow.translate(0, 0.012, 0);
    this.geometries = [clothes, rest, shadow];
    this.materials = [
      new MeshStandardMaterial({ roughness: 0.8 }),
      new MeshStandardMaterial({ roughness: 0.7, vertexColors: true }),
      new MeshBasicMaterial({ color: 0x000000, transparent: true, opacity: 0.28, depthWrite: false,
        polygonOffset: true, polygonOffsetFactor: -2 }),
    ];
    this.clothColors = PALETTE.map((hex) => new Color(hex));
    this.skinColors = SKIN_TONES.map((hex) => new Color(hex));
    this.slots = new Slots();
    this.meshes = [];
    this.allocate(INITIAL_SLOTS);
  }

  allocate(capacity) {
    const old = this.meshes;
    this.meshes = this.geometries.map((geometry, k) => {
      const mesh = new InstancedMesh(geometry, this.materials[k], capacity);
      mesh.name = ['avatar-clothes', 'avatar-bodies', 'avatar-shadows'][k];
      mesh.instanceMatrix.setUsage(DynamicDrawUsage);
      mesh.frustumCulled = false; // instances move every frame: a stale bounding sphere would hide them
      mesh.count = this.slots.size;
      if (k < 2) mesh.setColorAt(0, WHITE); // creates instanceColor
      if (old[k]) {
        mesh.instanceMatrix.array.set(old[k].instanceMatrix.array);
        if (old[k].instanceColor) mesh.instanceColor.array.set(old[k].instanceColor.array);
        this.parent.remove(old[k]);
        old[k].dispose();
      }
      mesh.renderOrder = k === 2 ? 1 : 0;
      this.parent.add(mesh);
      return mesh;
    });
    this.capacity = capacity;
  }

  /** Places avatar `id` (taking a slot on its first pose). */
  place(id, matrix) {
    let slot = this.slots.slotOf(id);
    if (slot === undefined) {
      if (this.slots.size === this.capacity) this.allocate(this.capacity * 2);
      slot = this.slots.add(id);
      this.meshes[0].setColorAt(slot, this.clothColors[colorIndex(id)]);
      this.meshes[1].setColorAt(slot, this.skinColors[skinIndex(id)]);
      for (const mesh of this.meshes) {
        mesh.count = this.slots.size;
        if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
      }
    }
    for (const mesh of this.meshes) {
      mesh.setMatrixAt(slot, matrix);
      mesh.instanceMatrix.needsUpdate = true;
    }
  }

  remove(id) {
    const moved = this.slots.remove(id);
    for (const mesh of this.meshes) {
      if (moved) {
        mesh.getMatrixAt(moved.from, MATRIX);
        mesh.setMatrixAt(moved.to, MATRIX);
        mesh.instanceMatrix.needsUpdate = true;
        if (mesh.instanceColor) {
          mesh.getColorAt(moved.from, COLOR);
          mesh.setColorAt(moved.to, COLOR);
          mesh.instanceColor.needsUpdate = true;
        }
      }
      mesh.count = this.slots.size;
    }
  }

  dispose() {
    for (const mesh of this.meshes) {
      this.parent.remove(mesh);
      mesh.dispose();
    }
    for (const thing of [...this.geometries, ...this.materials]) thing.dispose();
  }
}

const WHITE = new Color(1, 1, 1);
const COLOR = new Color();
const MATRIX = new Matrix4();
const POSITION = new Vector3();
const ROTATION = new Quaternion();
const EULER = new Euler();
const UNIT = new Vector3(1, 1, 1);

/** The skin tone index of a member id (independent of the clothes' colour). */
export function skinIndex(id) {
  // A different mix from colorIndex's (murmur3's finaliser), so tone and clothes vary independently.
  let h = Math.imul(id ^ (id >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % SKIN_TONES.length;
}

class Avatar {
  constructor(id, name, crowd, namesVisible) {
    this.id = id;
    this.snapshots = []; // {t (server ms), x, y, z, yaw}, oldest first
    this.delay = BASE_DELAY_MS;
    this.group = new Group();
    this.group.name = `avatar-${id}`;
    this.group.visible = false; // until its first pose
    this.crowd = crowd; // draws the body; the group carries the name tag
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
    POSITION.set(pose.x, pose.y, pose.z);
    ROTATION.setFromEuler(EULER.set(0, pose.yaw, 0));
    this.crowd.place(this.id, MATRIX.compose(POSITION, ROTATION, UNIT));
    return true;
  }

  dispose() {
    this.crowd.remove(this.id);
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
    this.crowd = new Crowd(parent);
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
        avatar = new Avatar(pose.id, name, this.crowd, this.namesVisible);
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
    this.crowd.dispose();
  }
}
