// Walk paint view — the painted boxes of the walk editor drawn in 3D while staff edit: translucent green for
// walkable, red for not walkable, with their edges, so what was painted can be seen from where one stands.
// Loaded by app.js only for a staff member in edit mode in 3D (three.js is there already).
//
// Invariants: one group in the scene, rebuilt whole from the list it is given (a few hundred boxes at most);
// never written to the depth buffer (the scene behind stays visible and pickable); hidden outside edit mode;
// disposed with its geometries and materials; asks for a frame after every change and reports how many boxes
// are shown (`onShown`: app.js puts it on the canvas as data-walk-paints, which browser tests read).

import { BoxGeometry, DoubleSide, EdgesGeometry, Group, LineBasicMaterial, LineSegments, Mesh, MeshBasicMaterial } from '../vendor/three.js';

const COLOURS = { walkable: 0x2e9e44, blocked: 0xd32f2f };
const LIFT = 0.02; // metres: the box's floor face above the floor, so it does not flicker with it

export class PaintBoxes {
  /**
   * @param {import('../vendor/three.js').Scene} scene
   * @param {() => void} invalidate  asks for a new frame
   * @param {(count: number) => void} onShown  how many boxes are visible now
   */
  constructor(scene, invalidate, onShown = () => {}) {
    this.scene = scene;
    this.onShown = onShown;
    this.invalidate = () => {
      invalidate();
      this.onShown(this.group.visible ? this.group.children.length / 2 : 0);
    };
    this.group = new Group();
    this.group.name = 'walk-paints';
    this.group.visible = false;
    this.materials = {};
    for (const [kind, color] of Object.entries(COLOURS)) {
      this.materials[kind] = {
        face: new MeshBasicMaterial({ color, transparent: true, opacity: 0.22, depthWrite: false, side: DoubleSide }), // seen from inside too
        edge: new LineBasicMaterial({ color, transparent: true, opacity: 0.8 }),
      };
    }
    scene.add(this.group);
  }

  /** Draws exactly these paints ({area: {min, max}, walkable}). */
  set(paints) {
    this.clear();
    for (const paint of paints) {
      const { min, max } = paint.area;
      const size = [Math.max(max[0] - min[0], 0.01), Math.max(max[1] - min[1], 0.01), Math.max(max[2] - min[2], 0.01)];
      const geometry = new BoxGeometry(...size);
      const edges = new EdgesGeometry(geometry);
      const material = this.materials[paint.walkable ? 'walkable' : 'blocked'];
      const box = new Mesh(geometry, material.face);
      const outline = new LineSegments(edges, material.edge);
      for (const part of [box, outline]) {
        part.position.set((min[0] + max[0]) / 2, (min[1] + max[1]) / 2 + LIFT, (min[2] + max[2]) / 2);
        part.renderOrder = 2; // after the opaque scene
        part.userData.walkPaint = paint.id;
        this.group.add(part);
      }
    }
    this.invalidate();
  }

  setVisible(on) {
    this.group.visible = Boolean(on);
    this.invalidate();
  }

  clear() {
    for (const child of [...this.group.children]) {
      child.geometry.dispose();
      this.group.remove(child);
    }
  }

  dispose() {
    this.clear();
    this.scene.remove(this.group);
    for (const { face, edge } of Object.values(this.materials)) {
      face.dispose();
      edge.dispose();
    }
    this.invalidate();
  }
}
