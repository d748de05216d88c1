// EventWall — the meeting's screen in the 3D scene: a plane on the front wall of the meeting's zone showing the
// current agenda item and the slide shown, drawn into a canvas (CanvasTexture) whenever they change. Loaded by
// event-panel.js in 3D only; the same facts are in the panel as text (and the slide with its text alternative),
// so the wall is never the only place to read them.
//
// Placement (`wallPlacement`, event-wall-layout.js): the zone's wall at its smallest z (the front of a room:
// visitors walk in toward -Z), centred, 30 cm in front of the wall's centre line, facing +Z, 16:9, at most 2.4 m wide and half the
// zone's width, its lower edge 3.5 m above the zone's floor (LOWER_EDGE) or lower under a low ceiling (20 cm under
// it), never under 1 m: in the bundled chamber it hangs over the dais, in view from the seats.
// While someone speaks on the stage audio (`setSpeaker`), an amber glow frames the wall and a band at its foot
// names the speaker: seen from the seats, over the dais.
// Invariants: unlit and not tone-mapped (a screen glows; it reads the same in high contrast); redraws only when
// the item, the slide, the state or the language's text changed; the slide image is same-origin (the CSP and
// an untainted canvas both need it).

import { CanvasTexture, Mesh, MeshBasicMaterial, PlaneGeometry, SRGBColorSpace } from '../vendor/three.js';
import { wallPlacement, wrapText } from './event-wall-layout.js';

const CANVAS_W = 1024;
const CANVAS_H = 576;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif';

export class EventWall {
  /**
   * @param {{scene: import('three').Scene, invalidate: () => void, zone: {area: object}, i18n: import('./i18n.js').I18n,
   *          onDraw?: (text: string) => void}} options  `onDraw` hears the text shown after each redraw
   */
  constructor({ scene, invalidate, zone, i18n, onDraw = () => {} }) {
    Object.assign(this, { scene, invalidate, i18n, onDraw });
    this.canvas = document.createElement('canvas');
    this.canvas.width = CANVAS_W;
    this.canvas.height = CANVAS_H;
    this.texture = new CanvasTexture(this.canvas);
    this.texture.colorSpace = SRGBColorSpace;
    const place = wallPlacement(zone.area);
    this.mesh = new Mesh(
      new PlaneGeometry(place.width, place.height),
      new MeshBasicMaterial({ map: this.texture, toneMapped: false }),
    );
    this.mesh.name = 'event-wall';
    this.mesh.position.set(place.x, place.y, place.z);
    this.mesh.updateMatrixWorld(true);
    this.mesh.matrixAutoUpdate = false;
    scene.add(this.mesh);
    // The speaking glow: a slightly larger amber plane just behind the screen, shown while someone speaks.
    const glowWidth = place.width * 1.06;
    this.glow = new Mesh(
      new PlaneGeometry(glowWidth, place.height + (glowWidth - place.width)),
      new MeshBasicMaterial({ color: 0xffbf47, toneMapped: false }),
    );
    this.glow.name = 'event-wall-speaking';
    this.glow.position.set(place.x, place.y, place.z - 0.04); // 4 cm behind: no depth fighting from the seats
    this.glow.visible = false;
    this.glow.updateMatrixWorld(true);
    this.glow.matrixAutoUpdate = false;
    scene.add(this.glow);
    this.speaker = null;
    this.last = null;
    this.key = '';
    this.image = null;
    this.imageUrl = null;
  }

  update(state) {
    const event = state.event;
    if (!event) return;
    const item = event.state === 'live' && event.currentItem !== null ? event.agenda[event.currentItem] : null;
    const heading = item
      ? `${event.currentItem + 1}. ${this.i18n.pick(item.title) || this.i18n.t('events.untitledItem', { number: event.currentItem + 1 })}`
      : this.i18n.pick(event.title);
    const stateText = this.i18n.t(`events.state.${event.state}`);
    const slideUrl = event.slide?.url ?? null;
    const key = JSON.stringify([heading, stateText, slideUrl, Boolean(item), this.speaker]);
    if (key === this.key) return;
    this.key = key;
    this.last = state;
    if (slideUrl !== this.imageUrl) {
      this.imageUrl = slideUrl;
      this.image = null;
      if (slideUrl) {
        const image = new Image();
        image.onload = () => {
          if (this.imageUrl !== slideUrl) return;
          this.image = image;
          this.draw(heading, stateText, Boolean(item));
        };
        image.src = slideUrl;
      }
    }
    this.draw(heading, stateText, Boolean(item));
  }

  /** Someone started speaking ({name, role}) or nobody speaks (null): the glow and the band follow. */
  setSpeaker(speaker) {
    this.speaker = speaker ? { name: speaker.name, role: speaker.role } : null;
    this.glow.visible = Boolean(this.speaker);
    if (this.last) this.update(this.last);
    else this.invalidate();
  }

  draw(heading, stateText, hasItem) {
    const ctx = this.canvas.getContext('2d');
    ctx.fillStyle = '#14202e';
    ctx.fillRect(0, 0, CANVAS_W, CANVAS_H);
    ctx.fillStyle = '#ffffff';
    ctx.textBaseline = 'top';
    const pad = 36;
    if (this.image) {
      ctx.font = `600 40px ${FONT}`;
      const [line] = wrapText((t) => ctx.measureText(t).width, heading, CANVAS_W - 2 * pad, 1);
      ctx.fillText(line || '', pad, 24);
      const top = 90;
      const boxW = CANVAS_W - 2 * pad;
      const boxH = CANVAS_H - top - 24;
      const scale = Math.min(boxW / this.image.naturalWidth, boxH / this.image.naturalHeight);
      const w = this.image.naturalWidth * scale;
      const h = this.image.naturalHeight * scale;
      ctx.drawImage(this.image, (CANVAS_W - w) / 2, top + (boxH - h) / 2, w, h);
    } else {
      ctx.font = `600 40px ${FONT}`;
      ctx.fillStyle = '#ffbf47';
      ctx.fillText(stateText, pad, 32);
      ctx.fillStyle = '#ffffff';
      ctx.font = `700 ${hasItem ? 68 : 60}px ${FONT}`;
      const lines = wrapText((t) => ctx.measureText(t).width, heading, CANVAS_W - 2 * pad, 4);
      const top = 100 + Math.max(0, (CANVAS_H - 140 - lines.length * 82) / 2); // the block centred under the state
      lines.forEach((line, i) => ctx.fillText(line, pad, top + i * 82));
    }
    const speaker = this.speaker;
    let speaking = '';
    if (speaker?.name) speaking = this.i18n.t('audio.wall.speaking', { name: speaker.name });
    else if (speaker && speaker.role !== 'floor') speaking = this.i18n.t(`audio.wall.${speaker.role}`); // staff: no public name
    if (speaking) {
      const band = 96; // big enough to read from the back rows
      ctx.fillStyle = '#ffbf47';
      ctx.fillRect(0, CANVAS_H - band, CANVAS_W, band);
      ctx.fillStyle = '#14202e';
      ctx.font = `700 56px ${FONT}`;
      const [line] = wrapText((t) => ctx.measureText(t).width, speaking, CANVAS_W - 2 * pad, 1);
      ctx.fillText(line || '', pad, CANVAS_H - band + 18);
    }
    this.texture.needsUpdate = true;
    this.invalidate();
    const shown = this.image ? `${heading} [slide]` : `${stateText}: ${heading}`;
    this.onDraw(speaking ? `${shown} [${speaking}]` : shown);
  }

  dispose() {
    this.scene.remove(this.glow);
    this.glow.geometry.dispose();
    this.glow.material.dispose();
    this.scene.remove(this.mesh);
    this.mesh.geometry.dispose();
    this.mesh.material.dispose();
    this.texture.dispose();
    this.invalidate();
  }
}
