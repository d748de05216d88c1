// Zone preview — the box being drawn in the places editor, shown in the 3D view (edit mode only): a faint
// see-through volume (tinted from inside too) and its edges drawn over everything, so the staff member sees the whole zone even from
// inside it or through a wall. Loaded by places-editor.js only when the 3D view exists (three.js stays out of
// text mode). One Group, added once, reused for every box; nothing else in the scene is touched.

import { BoxGeometry, DoubleSide, EdgesGeometry, Group, LineBasicMaterial, LineSegments, Mesh, MeshBasicMaterial } from '../vendor/three.js';

const COLOUR = 0xff7a00; // orange: apart from the hotspots' markers and the scenes' plaster, stone and wood

export class ZonePreview {
  /** @param {{scene: import('three').Scene, invalidate: () => void}} three */
  constructor({ scene, invalidate }) {
    this.invalidate = invalidate;
    const unit = new BoxGeometry(1, 1, 1);
    this.fill = new Mesh(unit, new MeshBasicMaterial({ color: COLOUR, transparent: true, opacity: 0.16, depthWrite: false, side: DoubleSide }));
    this.edges = new LineSegments(new EdgesGeometry(unit), new LineBasicMaterial({ color: COLOUR, depthTest: false, transparent: true }));
    this.edges.renderOrder = 10; // after the model: the edges show through walls
    this.group = new Group();
    this.group.name = 'zone-draw-preview';
    this.group.add(this.fill, this.edges);
    this.group.visible = false;
    scene.add(this.group);
  }

  get visible() {
    return this.group.visible;
  }

  /** Shows `box` ({min, max}, metres); a flat or inverted box is drawn as a thin one rather than vanishing. */
  show(box) {
    const size = box.max.map((high, i) => Math.max(Math.abs(high - box.min[i]), 0.02));
    const centre = box.max.map((high, i) => (high + box.min[i]) / 2);
    this.group.scale.set(...size);
    this.group.position.set(...centre);
    this.group.visible = true;
    this.invalidate();
  }

  hide() {
    if (!this.group.visible) return;
    this.group.visible = false;
    this.invalidate();
  }

  dispose() {
    this.group.removeFromParent();
    this.fill.geometry.dispose();
    this.fill.material.dispose();
    this.edges.geometry.dispose();
    this.edges.material.dispose();
    this.invalidate();
  }
}
