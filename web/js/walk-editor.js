// Walk editor — staff correct what the geometry got wrong about the walkable floor, from inside the page
// (issue 12 item 4): a "Walkable floor" section in the Staff panel, shown in edit mode. Loaded by app.js only
// when a staff member turns edit mode on.
//
// Painting: "Mark a corner here" where the staff member stands, walk to the opposite corner, mark it again:
// the box between the two corners (snapped outwards to the grid's cells, so both corners' cells are in it,
// from the lower feet to 1.5 m above the higher: one storey) is painted Walkable or Not walkable, as chosen.
// Painted boxes are listed in the order they apply (a later one wins) with Delete. Spawn points: "Add a spawn
// point here, looking this way", listed with Move up, Move down and Delete; the first is where visitors
// arrive (while there are none, the scene's own entrance is). In 3D, painted boxes are drawn translucent green
// (walkable) or red (not walkable) while editing (walk-paint-view.js, given by app.js).
//
// Invariants: everything works by keyboard with real buttons (and in text mode: the pose comes from the
// walker, no three.js here); each result is announced once, politely; every write sends the version it edits,
// a 409 says someone else changed it and reads the lists again; after each write the lists come again from
// the server and `onChanged` gets them (app.js reloads the walker's grid and the entrance); the pure parts
// (boxes, labels) are exported and tested in Node (web/test/walk-editor.test.js).

import { loadStylesheet } from './stylesheet.js';

const DEGREES = 180 / Math.PI;
export const STOREY = 1.5; // metres above the higher corner's feet a box reaches (below the 2 m between storeys)
const enc = encodeURIComponent;

const round = (v) => Math.round(v * 1000) / 1000;

/**
 * The box between two corners (feet positions [x, y, z]), snapped outwards to the grid's cells so that the
 * cells both corners stand in are painted, kept inside the scene's bounds.
 * @param {number[]} a
 * @param {number[]} b
 * @param {{origin?: number[], cell?: number} | null} grid  the scene's `walkable` (origin [x, z], cell)
 * @param {{min: number[], max: number[]} | null} bounds
 */
export function boxFromCorners(a, b, grid = null, bounds = null) {
  const cell = grid && grid.cell > 0 ? grid.cell : 0.25;
  const origin = grid && grid.origin ? grid.origin : [0, 0];
  const edges = (p, q, o) => [o + Math.floor((Math.min(p, q) - o) / cell) * cell, o + (Math.floor((Math.max(p, q) - o) / cell) + 1) * cell];
  const [x0, x1] = edges(a[0], b[0], origin[0]);
  const [z0, z1] = edges(a[2], b[2], origin[1]);
  const min = [x0, Math.min(a[1], b[1]), z0];
  const max = [x1, Math.max(a[1], b[1]) + STOREY, z1];
  if (bounds) {
    for (let axis = 0; axis < 3; axis++) {
      min[axis] = Math.min(Math.max(min[axis], bounds.min[axis]), bounds.max[axis]);
      max[axis] = Math.min(Math.max(max[axis], bounds.min[axis]), bounds.max[axis]);
    }
  }
  return { min: min.map(round), max: max.map(round) };
}

/** Width (x) and depth (z) of a box in metres, one decimal. */
export function boxSize(area) {
  const one = (v) => Math.round(v * 10) / 10;
  return { width: one(area.max[0] - area.min[0]), depth: one(area.max[2] - area.min[2]) };
}

/** A box's centre at its floor, [x, y, z] (where a place name is looked up). */
export function boxCentre(area) {
  return [(area.min[0] + area.max[0]) / 2, area.min[1], (area.min[2] + area.max[2]) / 2];
}

/** Feet position and yaw in degrees in (-180, 180] of a walker ({x, y, z, yaw} in radians). */
export function poseOf(walker) {
  if (!walker) return null;
  let yaw = (walker.yaw * DEGREES) % 360;
  if (yaw > 180) yaw -= 360;
  if (yaw <= -180) yaw += 360;
  return { position: [round(walker.x), round(walker.y), round(walker.z)], yaw: round(yaw) };
}

/** The compass word for a yaw in degrees (0 looks along -z, "north"; 90 looks along -x, "west"). */
export function heading(yaw) {
  const names = ['north', 'west', 'south', 'east'];
  return names[(((Math.round(yaw / 90) % 4) + 4) % 4)];
}

export class WalkEditor {
  /**
   * @param {{doc: Document, i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer,
   *          session: import('./staff-signin.js').StaffSession, sceneId: string,
   *          navigation: import('./navigation.js').Navigation, grid: () => object | null,
   *          bounds: {min: number[], max: number[]} | null, onChanged?: (listing: object) => void,
   *          view3d?: () => Promise<{set: Function, setVisible: Function, dispose: Function} | null>,
   *          setViewHint?: (text: string | null) => void}} context
   *   `setViewHint` sets the hint over the 3D view (null: the page's own): while a corner waits in 3D it says to
   *   walk and press Enter, then goes back to the edit mode's hint.
   */
  constructor({ doc, i18n, announcer, session, sceneId, navigation, grid, bounds, onChanged = () => {}, view3d = async () => null, setViewHint = () => {} }) {
    Object.assign(this, { doc, i18n, announcer, session, sceneId, navigation, grid, bounds, onChanged, view3d, setViewHint });
    this.paints = [];
    this.spawns = [];
    this.corner = null; // the first corner marked, [x, y, z]
    this.boxes = null; // the 3D view of the paints, once asked for
    this.editing = false;
    this.painting = false; // a paint is being sent (a second Enter must not send it twice)
    this.waitView = null; // the 3D view listening for Enter while the first corner waits for the other
    this.build();
  }

  t(key, vars) {
    return this.i18n.t(key, vars);
  }

  destroy() {
    this.stopWaitingInView();
    this.section.remove();
    this.boxes?.dispose();
    this.boxes = null;
  }

  async setEditing(on) {
    this.editing = Boolean(on);
    this.section.hidden = !this.editing;
    if (!this.editing && this.corner) this.cancelCorner(false); // the section is hidden: nothing would finish it
    if (this.editing) {
      await this.refresh().catch((error) => this.fail(this.t('editor.error', { message: error.message })));
      if (!this.boxes) this.boxes = await this.view3d().catch(() => null);
      this.boxes?.set(this.paints);
    }
    this.boxes?.setVisible(this.editing);
  }

  // --- the section in the Staff panel -----------------------------------------------------------------------

  build() {
    const el = (tag, props = {}, ...children) => {
      const node = this.doc.createElement(tag);
      Object.assign(node, props);
      node.append(...children);
      return node;
    };
    this.el = el;
    const button = (id, key) => el('button', { type: 'button', className: 'button button-small', id }, this.t(key));
    this.cornerButton = button('walk-corner', 'walk.corner');
    this.cornerButton.addEventListener('click', () => this.markCorner());
    this.cancelButton = el('button', { type: 'button', className: 'button button-small button-quiet', id: 'walk-corner-cancel', hidden: true }, this.t('walk.cancelCorner'));
    this.cancelButton.addEventListener('click', () => this.cancelCorner());
    this.cornerStatus = el('p', { className: 'field-hint', id: 'walk-corner-status' }, this.t('walk.cornerHint'));
    const kind = (value, key, checked) => {
      const input = el('input', { type: 'radio', name: 'walk-kind', value, id: `walk-kind-${value}`, checked });
      return el('span', { className: 'check walk-kind-choice' }, input, el('label', { htmlFor: input.id }, this.t(key)));
    };
    this.kindGroup = el('fieldset', { className: 'walk-kind', id: 'walk-kind' }, el('legend', {}, this.t('walk.kind')), kind('blocked', 'walk.notWalkable', true), kind('walkable', 'walk.walkable', false));
    this.paintList = el('ol', { id: 'walk-paint-list', className: 'places-edit-list walk-list' });
    this.paintEmpty = el('p', { className: 'field-hint', id: 'walk-paint-empty' }, this.t('walk.noPaints'));
    this.spawnButton = button('spawn-add', 'walk.addSpawn');
    this.spawnButton.addEventListener('click', () => this.addSpawn());
    this.spawnList = el('ol', { id: 'walk-spawn-list', className: 'places-edit-list walk-list' });
    this.spawnEmpty = el('p', { className: 'field-hint', id: 'walk-spawn-empty' }, this.t('walk.noSpawns'));
    this.note = el('p', { className: 'form-error', id: 'walk-editor-note', hidden: true });
    this.section = el(
      'section',
      { id: 'walk-editor', className: 'walk-editor', hidden: true },
      el('h3', { id: 'walk-editor-title' }, this.t('walk.title')),
      el('p', { className: 'field-hint' }, this.t('walk.hint')),
      this.note,
      el('h4', { id: 'walk-paints-title' }, this.t('walk.paints')),
      this.kindGroup,
      el('p', { className: 'walk-actions' }, this.cornerButton, ' ', this.cancelButton),
      this.cornerStatus,
      this.paintEmpty,
      this.paintList,
      el('h4', { id: 'walk-spawns-title' }, this.t('walk.spawns')),
      this.spawnEmpty,
      this.spawnList,
      el('p', {}, this.spawnButton),
    );
    this.section.setAttribute('aria-labelledby', 'walk-editor-title');
    this.paintList.setAttribute('aria-labelledby', 'walk-paints-title');
    this.spawnList.setAttribute('aria-labelledby', 'walk-spawns-title');
    this.doc.getElementById('staff').append(this.section);
    loadStylesheet(this.doc, '/static/css/walk-editor.css'); // its own small stylesheet, when the editor first loads
  }

  /** The paint kind chosen: true for walkable. */
  get walkableChosen() {
    return this.doc.getElementById('walk-kind-walkable').checked;
  }

  placeName(position) {
    return this.navigation.placeName ? this.navigation.placeName(position) : '';
  }

  paintLabel(paint) {
    const { width, depth } = boxSize(paint.area);
    const kind = this.t(paint.walkable ? 'walk.walkable' : 'walk.notWalkable');
    return this.t('walk.paintItem', { kind, width, depth, place: this.placeName(boxCentre(paint.area)) });
  }

  spawnLabel(spawn, index) {
    return this.t('walk.spawnItem', { number: index + 1, place: this.placeName(spawn.position), heading: this.t(`walk.heading.${heading(spawn.yaw)}`) });
  }

  render() {
    const { el } = this;
    // A re-render (after a write, or a live change by someone else) must not drop a keyboard user's focus: the
    // control of the same id gets it back.
    const focused = this.doc.activeElement;
    const focusedId = focused && (this.paintList.contains(focused) || this.spawnList.contains(focused)) ? focused.id : null;
    this.paintEmpty.hidden = this.paints.length > 0;
    this.paintList.replaceChildren(
      ...this.paints.map((paint) => {
        const label = this.paintLabel(paint);
        const remove = el('button', { type: 'button', className: 'button button-small button-quiet', id: `walk-paint-delete-${paint.id}` }, this.t('editor.delete'), el('span', { className: 'visually-hidden' }, ` ${label}`));
        remove.addEventListener('click', () => this.deletePaint(paint));
        const item = el('li', { className: `places-edit-item walk-paint walk-paint-${paint.walkable ? 'walkable' : 'blocked'}` }, el('span', { className: 'places-edit-name' }, label), ' ', remove);
        item.dataset.id = String(paint.id);
        return item;
      }),
    );
    this.spawnEmpty.hidden = this.spawns.length > 0;
    this.spawnList.replaceChildren(
      ...this.spawns.map((spawn, index) => {
        const label = this.spawnLabel(spawn, index);
        const hidden = () => el('span', { className: 'visually-hidden' }, ` ${label}`);
        const control = (id, key, onClick, disabled = false) => {
          const node = el('button', { type: 'button', className: 'button button-small button-quiet', id }, this.t(key), hidden());
          if (disabled) node.setAttribute('aria-disabled', 'true');
          node.addEventListener('click', onClick);
          return node;
        };
        const up = control(`spawn-up-${spawn.id}`, 'walk.moveUp', () => this.moveSpawn(spawn, index - 1, 'up'), index === 0);
        const down = control(`spawn-down-${spawn.id}`, 'walk.moveDown', () => this.moveSpawn(spawn, index + 1, 'down'), index === this.spawns.length - 1);
        const remove = control(`spawn-delete-${spawn.id}`, 'editor.delete', () => this.deleteSpawn(spawn));
        const item = el('li', { className: 'places-edit-item' }, el('span', { className: 'places-edit-name' }, label), ' ', up, ' ', down, ' ', remove);
        item.dataset.id = String(spawn.id);
        return item;
      }),
    );
    if (focusedId) this.doc.getElementById(focusedId)?.focus();
  }

  // --- reading and writing --------------------------------------------------------------------------------------

  async refresh() {
    const response = await fetch(`/api/scenes/${enc(this.sceneId)}/walk-edits`, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const listing = await response.json();
    this.paints = listing.paints || [];
    this.spawns = listing.spawns || [];
    this.render();
    this.boxes?.set(this.paints);
    this.onChanged(listing);
    return listing;
  }

  fail(message) {
    Object.assign(this.note, { textContent: message, hidden: false });
    this.announcer.say(message, { repeat: true });
  }

  /** Sends a write; returns the saved body, or null (said and shown). A 409 reads the lists again. */
  async send(url, options) {
    Object.assign(this.note, { textContent: '', hidden: true });
    try {
      const { status, body } = await this.session.write(url, options);
      if (status === 409) {
        await this.refresh().catch(() => {});
        const code = body?.error?.code;
        this.fail(this.t(code === 'too_many_paints' || code === 'too_many_spawns' ? `walk.error.${code}` : 'walk.conflict'));
        return null;
      }
      return body;
    } catch (error) {
      const known = ['spawn_off_floor', 'invalid_field'];
      this.fail(known.includes(error.code) ? this.t(`walk.error.${error.code}`) : this.t('editor.error', { message: error.message }));
      return null;
    }
  }

  pose() {
    return poseOf(this.navigation.walker);
  }

  /** The 3D view when the page shows one (not in text mode): where walking by keys happens. */
  shownView() {
    const view = this.doc.getElementById('view');
    return view && !view.hidden && this.doc.body.dataset.mode === '3d' ? view : null;
  }

  async markCorner() {
    const pose = this.pose();
    if (!pose) return this.fail(this.t('walk.noPose'));
    if (!this.corner) {
      this.corner = pose.position;
      const view = this.shownView();
      const text = this.t(view ? 'walk.cornerMarked3d' : 'walk.cornerMarked', { place: this.placeName(pose.position) });
      this.cornerStatus.textContent = text;
      this.cancelButton.hidden = false;
      this.cornerButton.textContent = this.t('walk.cornerSecond');
      if (view) this.waitInView(view); // in text mode the button keeps focus: "jump", then press it again
      this.announcer.say(text, { repeat: true });
      return;
    }
    if (this.painting) return;
    this.painting = true;
    try {
      const area = boxFromCorners(this.corner, pose.position, this.grid(), this.bounds);
      const walkable = this.walkableChosen;
      const saved = await this.send(`/api/scenes/${enc(this.sceneId)}/walk-paints`, { body: { area, walkable } });
      if (!saved) return;
      this.cancelCorner(false);
      await this.refresh().catch(() => {});
      this.cornerButton.focus(); // ready for the next area (also after Enter in the 3D view)
      this.announcer.say(this.t('walk.painted', { item: this.paintLabel(saved) }), { repeat: true });
    } finally {
      this.painting = false;
    }
  }

  /**
   * Walking happens in the 3D view (its keys act only while it has focus): focus goes there, its hint says what
   * to do, and Enter there marks the opposite corner, so the staff member need not come back for the button.
   */
  waitInView(view) {
    this.stopWaitingInView();
    this.onViewKey = (event) => {
      if (event.key !== 'Enter' || event.ctrlKey || event.altKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      this.markCorner();
    };
    this.waitView = view;
    view.addEventListener('keydown', this.onViewKey);
    this.setViewHint(this.t('walk.viewHint'));
    view.focus();
  }

  stopWaitingInView() {
    if (!this.waitView) return;
    this.waitView.removeEventListener('keydown', this.onViewKey);
    this.waitView = null;
    this.setViewHint(this.editing ? this.t('editor.viewHint') : null); // edit mode's own hint again
  }

  cancelCorner(say = true) {
    this.stopWaitingInView();
    this.corner = null;
    this.cornerButton.textContent = this.t('walk.corner');
    this.cornerStatus.textContent = this.t('walk.cornerHint');
    this.cancelButton.hidden = true;
    if (say) {
      this.cornerButton.focus();
      this.announcer.say(this.t('walk.cornerCancelled'), { repeat: true });
    }
  }

  async deletePaint(paint) {
    const label = this.paintLabel(paint);
    const saved = await this.send(`/api/walk-paints/${paint.id}?version=${paint.version}`, { method: 'DELETE' });
    if (!saved) return;
    await this.refresh().catch(() => {});
    this.cornerButton.focus(); // the item is gone: the next useful control
    this.announcer.say(this.t('walk.paintDeleted', { item: label }), { repeat: true });
  }

  async addSpawn() {
    const pose = this.pose();
    if (!pose) return this.fail(this.t('walk.noPose'));
    const saved = await this.send(`/api/scenes/${enc(this.sceneId)}/spawns`, { body: pose });
    if (!saved) return;
    await this.refresh().catch(() => {});
    const index = this.spawns.findIndex((s) => s.id === saved.id);
    this.announcer.say(this.t('walk.spawnAdded', { item: this.spawnLabel(saved, index < 0 ? this.spawns.length - 1 : index) }), { repeat: true });
  }

  async moveSpawn(spawn, order, direction) {
    if (order < 0 || order >= this.spawns.length) return; // at an end (aria-disabled)
    const saved = await this.send(`/api/spawns/${spawn.id}`, { method: 'PATCH', body: { version: spawn.version, order } });
    if (!saved) return;
    await this.refresh().catch(() => {});
    const same = this.doc.getElementById(`spawn-${direction}-${spawn.id}`);
    const other = this.doc.getElementById(`spawn-${direction === 'up' ? 'down' : 'up'}-${spawn.id}`);
    (same?.getAttribute('aria-disabled') === 'true' ? other : same)?.focus();
    this.announcer.say(this.t('walk.spawnMoved', { number: order + 1, count: this.spawns.length }), { repeat: true });
  }

  async deleteSpawn(spawn) {
    const saved = await this.send(`/api/spawns/${spawn.id}?version=${spawn.version}`, { method: 'DELETE' });
    if (!saved) return;
    await this.refresh().catch(() => {});
    this.spawnButton.focus();
    this.announcer.say(this.t('walk.spawnDeleted'), { repeat: true });
  }
}
