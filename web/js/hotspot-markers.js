// HotspotMarkers — the hotspots in the 3D view: a pin standing off the surface along the hotspot's normal,
// a round badge at its head with an icon per kind (always facing the viewer, never smaller than a
// comfortable click target on screen), a soft pulsing halo (none with reduced motion), and the title as a
// label above it in the resident's language. Also the ray casts the resident's clicks and the editor
// need: which marker is under the pointer, and which surface of the scene (point and world normal).
//
// Invariants: labels are drawn as pixels from text (canvas fillText), never HTML; each marker owns its
// label texture and sprite material (disposed on removal), icon textures and geometries are shared; a
// marker hidden behind a wall cannot be picked through it; `update()` asks for a render only when
// something visible changed (the pulse at most PULSE_FPS times a second).

import {
  CanvasTexture,
  CylinderGeometry,
  Group,
  LinearMipmapLinearFilter,
  Matrix3,
  Mesh,
  MeshBasicMaterial,
  Quaternion,
  Raycaster,
  SRGBColorSpace,
  Sprite,
  SpriteMaterial,
  Vector2,
  Vector3,
} from '../vendor/three.js';

const LIFT = 0.32; // metres between the surface and the badge
const BADGE = 0.42; // metres, up close
const MIN_ANGULAR = 0.075; // the badge never looks smaller than this many metres per metre of distance (~35 px)
const LABEL_HEIGHT = 0.2;
const LABEL_GAP = 0.12;
const LABEL_FONT_PX = 44;
const LABEL_MAX_CHARS = 40;
const PULSE_MS = 2200;
const PULSE_FPS = 20;
const FAR = 60;

export const KIND_COLOURS = { proposal: '#c2410c', information: '#1d4ed8', event: '#7e22ce' };

/** The badge texture of a kind: a coloured disc with a white ring and a white icon. */
function drawBadge(kind) {
  const size = 128;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const g = canvas.getContext('2d');
  const c = size / 2;
  g.beginPath();
  g.arc(c, c, c - 3, 0, Math.PI * 2);
  g.fillStyle = '#14202e';
  g.fill();
  g.beginPath();
  g.arc(c, c, c - 8, 0, Math.PI * 2);
  g.fillStyle = '#ffffff';
  g.fill();
  g.beginPath();
  g.arc(c, c, c - 17, 0, Math.PI * 2);
  g.fillStyle = KIND_COLOURS[kind] || KIND_COLOURS.information;
  g.fill();
  g.fillStyle = '#ffffff';
  g.strokeStyle = '#ffffff';
  g.lineWidth = 7;
  g.lineJoin = 'round';
  g.lineCap = 'round';
  if (kind === 'proposal') {
    // A speech bubble: "have your say".
    g.beginPath();
    g.roundRect(34, 38, 60, 40, 10);
    g.moveTo(46, 76);
    g.lineTo(42, 94);
    g.lineTo(62, 77);
    g.fill();
    g.fillStyle = KIND_COLOURS.proposal;
    for (const x of [50, 64, 78]) {
      g.beginPath();
      g.arc(x, 58, 5, 0, Math.PI * 2);
      g.fill();
    }
  } else if (kind === 'event') {
    // A calendar page.
    g.strokeRect(38, 44, 52, 44);
    g.fillRect(38, 44, 52, 12);
    g.beginPath();
    g.moveTo(50, 34);
    g.lineTo(50, 48);
    g.moveTo(78, 34);
    g.lineTo(78, 48);
    g.stroke();
    for (const [x, y] of [[50, 68], [64, 68], [78, 68], [50, 80], [64, 80]]) g.fillRect(x - 4, y - 3, 8, 6);
  } else {
    // "i" for information.
    g.beginPath();
    g.arc(c, 40, 8, 0, Math.PI * 2);
    g.fill();
    g.fillRect(c - 7, 54, 14, 40);
    g.fillRect(c - 14, 54, 14, 7);
    g.fillRect(c - 14, 88, 28, 7);
  }
  return canvas;
}

function drawHalo() {
  const size = 128;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const g = canvas.getContext('2d');
  g.beginPath();
  g.arc(size / 2, size / 2, size / 2 - 6, 0, Math.PI * 2);
  g.lineWidth = 8;
  g.strokeStyle = '#ffbf47';
  g.stroke();
  return canvas;
}

/** A label: white text on a dark rounded plate. Returns {canvas, aspect}. */
export function drawLabel(text) {
  const shown = text.length > LABEL_MAX_CHARS ? `${text.slice(0, LABEL_MAX_CHARS - 1)}…` : text;
  const canvas = document.createElement('canvas');
  const g = canvas.getContext('2d');
  const font = `600 ${LABEL_FONT_PX}px system-ui, sans-serif`;
  g.font = font;
  const pad = 18;
  const width = Math.ceil(Math.min(g.measureText(shown).width, 1400)) + pad * 2;
  const height = LABEL_FONT_PX + 24;
  canvas.width = width;
  canvas.height = height;
  g.font = font;
  g.fillStyle = 'rgba(20, 32, 46, 0.88)';
  g.beginPath();
  g.roundRect(0, 0, width, height, 14);
  g.fill();
  g.fillStyle = '#ffffff';
  g.textBaseline = 'middle';
  g.fillText(shown, pad, height / 2 + 2, width - pad * 2);
  return { canvas, aspect: width / height, text: shown };
}

function texture(canvas) {
  const t = new CanvasTexture(canvas);
  t.colorSpace = SRGBColorSpace;
  t.minFilter = LinearMipmapLinearFilter; // labels are mostly seen smaller than drawn: keep them legible
  t.anisotropy = 4;
  return t;
}

class Marker {
  constructor(hotspot, shared) {
    this.id = hotspot.id;
    this.group = new Group();
    this.group.name = `hotspot-${hotspot.id}`;
    this.stem = new Mesh(shared.stem, shared.stemMaterial);
    this.badge = new Sprite(shared.badges[hotspot.kind] || shared.badges.information);
    this.badge.renderOrder = 5;
    this.halo = new Sprite(shared.haloMaterial.clone());
    this.halo.renderOrder = 4;
    this.labelMaterial = new SpriteMaterial({ transparent: true, depthWrite: false });
    this.label = new Sprite(this.labelMaterial);
    this.label.renderOrder = 6;
    for (const sprite of [this.badge, this.label]) sprite.userData.hotspotId = hotspot.id;
    this.group.add(this.stem, this.halo, this.badge, this.label);
    this.head = new Vector3();
    this.scale = BADGE;
  }

  set(hotspot, shared, labelText) {
    this.hotspot = hotspot;
    this.badge.material = shared.badges[hotspot.kind] || shared.badges.information;
    const [x, y, z] = hotspot.position;
    const normal = new Vector3(...(hotspot.normal || [0, 0, 1]));
    if (normal.lengthSq() < 1e-9) normal.set(0, 0, 1);
    normal.normalize();
    this.group.position.set(x, y, z);
    // The stem is a unit-high cylinder along +Y: turn it onto the normal, half-way out.
    this.stem.quaternion.copy(new Quaternion().setFromUnitVectors(new Vector3(0, 1, 0), normal));
    this.stem.position.copy(normal).multiplyScalar(LIFT / 2);
    this.stem.scale.set(1, LIFT, 1);
    const head = normal.clone().multiplyScalar(LIFT);
    this.badge.position.copy(head);
    this.halo.position.copy(head);
    this.head.set(x, y, z).add(head);
    if (labelText !== this.labelText) {
      this.labelText = labelText;
      const old = this.labelMaterial.map;
      const { canvas, aspect, text } = drawLabel(labelText);
      this.labelShown = text;
      this.labelMaterial.map = texture(canvas);
      this.labelMaterial.needsUpdate = true;
      this.labelAspect = aspect;
      old?.dispose();
    }
    this.place(this.scale);
  }

  /** Sizes the badge, the halo and the label for an on-screen size of `scale` metres at the badge. */
  place(scale) {
    this.scale = scale;
    this.badge.scale.set(scale, scale, 1);
    const labelHeight = LABEL_HEIGHT * (scale / BADGE);
    this.label.scale.set(labelHeight * this.labelAspect, labelHeight, 1);
    this.label.position.copy(this.badge.position);
    this.label.position.y += scale / 2 + LABEL_GAP * (scale / BADGE) + labelHeight / 2;
  }

  dispose() {
    this.labelMaterial.map?.dispose();
    this.labelMaterial.dispose();
    this.halo.material.dispose();
  }
}

export class HotspotMarkers {
  /**
   * @param {import('../vendor/three.js').Scene} scene
   * @param {{labelOf: (hotspot) => string, reducedMotion?: boolean}} options
   */
  constructor(scene, { labelOf, reducedMotion = false }) {
    this.group = new Group();
    this.group.name = 'hotspots';
    scene.add(this.group);
    this.labelOf = labelOf;
    this.reducedMotion = reducedMotion;
    this.markers = new Map();
    this.selected = null;
    this.lastPulse = 0;
    this.raycaster = new Raycaster();
    this.shared = {
      stem: new CylinderGeometry(0.018, 0.018, 1, 8),
      stemMaterial: new MeshBasicMaterial({ color: '#14202e' }),
      badges: Object.fromEntries(
        Object.keys(KIND_COLOURS).map((kind) => [kind, new SpriteMaterial({ map: texture(drawBadge(kind)), transparent: true })]),
      ),
      haloMaterial: new SpriteMaterial({ map: texture(drawHalo()), transparent: true, depthWrite: false, opacity: 0 }),
    };
  }

  /** Shows exactly these hotspots. */
  sync(hotspots) {
    const keep = new Set(hotspots.map((h) => h.id));
    for (const id of [...this.markers.keys()]) if (!keep.has(id)) this.remove(id);
    for (const hotspot of hotspots) this.set(hotspot);
  }

  set(hotspot) {
    let marker = this.markers.get(hotspot.id);
    if (!marker) {
      marker = new Marker(hotspot, this.shared);
      this.markers.set(hotspot.id, marker);
      this.group.add(marker.group);
    }
    marker.set(hotspot, this.shared, this.labelOf(hotspot));
    this.dirty = true;
  }

  remove(id) {
    const marker = this.markers.get(id);
    if (!marker) return;
    this.group.remove(marker.group);
    marker.dispose();
    this.markers.delete(id);
    this.dirty = true;
  }

  /** Marks the hotspot an editor is working on (a steady ring instead of the pulse). */
  select(id) {
    this.selected = id;
    this.dirty = true;
  }

  setReducedMotion(reduced) {
    this.reducedMotion = Boolean(reduced);
    this.dirty = true;
  }

  /** Per frame: badge sizes for the camera, the pulse. Returns true when a render is needed. */
  update(time, camera) {
    let changed = this.dirty;
    this.dirty = false;
    const eye = camera.position;
    for (const marker of this.markers.values()) {
      const distance = marker.head.distanceTo(eye);
      const scale = Math.max(BADGE, distance * MIN_ANGULAR);
      if (Math.abs(scale - marker.scale) > 1e-3) {
        marker.place(scale);
        changed = true;
      }
      marker.group.visible = distance < FAR || marker.id === this.selected;
    }
    const pulse = !this.reducedMotion && this.markers.size > 0;
    if (pulse && time - this.lastPulse >= 1000 / PULSE_FPS) {
      this.lastPulse = time;
      const phase = (time % PULSE_MS) / PULSE_MS;
      for (const marker of this.markers.values()) {
        const halo = marker.halo;
        if (marker.id === this.selected) {
          halo.scale.set(marker.scale * 1.35, marker.scale * 1.35, 1);
          halo.material.opacity = 1;
        } else {
          const grow = 1 + 0.6 * phase;
          halo.scale.set(marker.scale * grow, marker.scale * grow, 1);
          halo.material.opacity = 0.85 * (1 - phase);
        }
      }
      changed = true;
    } else if (!pulse && changed) {
      for (const marker of this.markers.values()) {
        const on = marker.id === this.selected;
        marker.halo.scale.set(marker.scale * 1.35, marker.scale * 1.35, 1);
        marker.halo.material.opacity = on ? 1 : 0;
      }
    }
    return changed;
  }

  /** What tests and the accessibility layer read: [{id, label, position: [x, y, z] of the badge}]. */
  list() {
    return [...this.markers.values()].map((m) => ({ id: m.id, label: m.labelShown, kind: m.hotspot.kind, position: m.head.toArray() }));
  }

  /**
   * The hotspot under the point `ndc` ({x, y} in -1..1) of `camera`, or null. A marker behind a
   * surface of `model` does not count.
   */
  pick(ndc, camera, model = null) {
    this.raycaster.setFromCamera(new Vector2(ndc.x, ndc.y), camera);
    const sprites = [];
    for (const marker of this.markers.values()) if (marker.group.visible) sprites.push(marker.badge, marker.label);
    const hit = this.raycaster.intersectObjects(sprites, false)[0];
    if (!hit) return null;
    if (model) {
      const wall = this.raycaster.intersectObject(model, true)[0];
      if (wall && wall.distance < hit.distance - 0.05) return null;
    }
    return hit.object.userData.hotspotId;
  }

  /** The screen point (ndc) of a marker's badge, or null when it is behind the camera. */
  screenPoint(id, camera) {
    const marker = this.markers.get(id);
    if (!marker) return null;
    const p = marker.head.clone().project(camera);
    return p.z < 1 ? { x: p.x, y: p.y } : null;
  }
}

/**
 * The surface of `model` under `ndc` of `camera` (or straight ahead, ndc {0, 0}), within `far` metres:
 * {point: [x, y, z], normal: [x, y, z] (world space, towards the viewer)} or null.
 */
export function surfaceAt(model, camera, ndc = { x: 0, y: 0 }, far = 40) {
  const raycaster = new Raycaster();
  raycaster.setFromCamera(new Vector2(ndc.x, ndc.y), camera);
  raycaster.far = far;
  const hit = raycaster.intersectObject(model, true).find((h) => h.face);
  if (!hit) return null;
  const normal = hit.face.normal.clone().applyMatrix3(new Matrix3().getNormalMatrix(hit.object.matrixWorld)).normalize();
  if (normal.dot(raycaster.ray.direction) > 0) normal.negate(); // the side the viewer sees
  const round = (v) => Math.round(v * 1000) / 1000;
  return { point: hit.point.toArray().map(round), normal: normal.toArray().map((v) => Math.round(v * 1e5) / 1e5) };
}
