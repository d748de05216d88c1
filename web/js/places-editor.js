// Places editor — staff define a scene's zones and guided tour from inside the page (issue 12 item 5), for
// scenes whose manifest has none (an imported model) or to add to a bundled scene's. Loaded with the hotspot
// editor (staff-ui.js), shown in edit mode inside the Staff section.
//
// "New zone here": a box around where the staff member stands (a size to choose: the server makes the box,
// server/services/places.py), or a drawn box: "Mark first corner here", walk, "Mark opposite corner here" (or
// Enter in the 3D view); the box between the corners (zone-draw.js) fills labelled, checked numeric fields that
// can also be typed in, and is previewed in the 3D view while drawing (zone-draw-preview.js, when the page gives
// `three`). A name and a description per language. Editing a zone keeps its area, makes it again around the
// feet, or draws it anew. "New tour stop here, looking this way": the walker's position and view, with a title
// and a narration per language. The stored zones and stops are listed with Edit and Delete; stops also with
// Move up and Move down. Zones and stops written in the manifest are the seed and are not edited here (a zone
// made with a manifest zone's key replaces it).
//
// Invariants: everything works by keyboard (real buttons, <dialog> forms via openModal, focus returned to the
// opener, or to the same control of a moved stop), each result is announced once; every write sends the
// version it edits, a 409 shows that someone else changed it and reloads the lists; after each write the
// lists come again from the server and go into the page (places-live.js), so the mirror and the tour show
// them at once; texts go in as text, never HTML; no three.js here (the pose comes from the walker; the preview
// module is loaded only with a 3D view), so it works in text mode too (mark a corner, jump, mark the other).

import { LANGUAGE_NAMES } from './i18n.js';
import { elementMaker, openModal } from './modal.js';
import { applyPlaces } from './places-live.js';
import { api } from './api.js';
import { AXES, boxFromCorners, boxProblems, boxSize, clampToBounds, formatCoordinate, parseCoordinate } from './zone-draw.js';

const LANGUAGES = ['en', 'fr', 'nl', 'es'];
const SIZES = { small: 4, room: 8, large: 16 }; // metres, width and depth of a zone made around the feet
const DEGREES = 180 / Math.PI;
const enc = encodeURIComponent;

export class PlacesEditor {
  /**
   * @param {{doc: Document, i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer,
   *          session: import('./staff-signin.js').StaffSession, sceneId: string,
   *          navigation: import('./navigation.js').Navigation,
   *          three?: () => ({scene: object, invalidate: () => void} | null),
   *          setViewHint?: (text: string | null) => void}} context
   *   `three` gives the 3D view's scene once it exists (null before, and in text mode): the drawn zone is
   *   previewed there. Without it, drawing works the same, with no preview. `setViewHint` sets the hint over
   *   the 3D view (null: the page's own): while walking to the opposite corner it says to walk and press Enter.
   */
  constructor({ doc, i18n, announcer, session, sceneId, navigation, three = () => null, setViewHint = () => {} }) {
    Object.assign(this, { doc, i18n, announcer, session, sceneId, navigation, three, setViewHint });
    this.editing = false;
    this.el = elementMaker(doc);
    this.zones = [];
    this.tour = [];
    this.editingZone = null;
    this.editingStop = null;
    this.drawing = null; // {first: [x, y, z]} while the staff member walks to the opposite corner
    this.bounds = null; // the scene's box: drawn zones are kept inside it
    this.previewBox = null; // the box the 3D preview should show (null: hidden)
    this.build();
    this.refresh().catch(() => {});
    api.scene(sceneId).then((scene) => (this.bounds = scene.bounds || null), () => {});
  }

  t(key, vars) {
    return this.i18n.t(key, vars);
  }

  destroy() {
    this.endDrawing();
    this.previewReady?.then((preview) => preview?.dispose());
    for (const dialog of [this.zoneDialog, this.stopDialog]) {
      if (dialog.open) dialog.close();
      dialog.remove();
    }
    this.section.remove();
  }

  setEditing(on) {
    this.editing = Boolean(on);
    this.section.hidden = !on;
    if (!on) {
      this.endDrawing();
      if (this.zoneDialog.open) this.zoneDialog.close();
      this.setPreview(null); // also when leaving edit mode while walking to a corner (the form was closed)
    }
  }

  // --- the section in the Staff panel ----------------------------------------------------------------------

  build() {
    const { el } = this;
    this.zoneList = el('ul', { id: 'places-zone-list', className: 'places-edit-list' });
    this.stopList = el('ol', { id: 'places-stop-list', className: 'places-edit-list' });
    this.zoneEmpty = el('p', { className: 'field-hint', id: 'places-zone-empty' }, this.t('places.editor.noZones'));
    this.stopEmpty = el('p', { className: 'field-hint', id: 'places-stop-empty' }, this.t('places.editor.noStops'));
    this.newZoneButton = el('button', { type: 'button', className: 'button button-small', id: 'zone-new' }, this.t('places.editor.newZone'));
    this.newZoneButton.addEventListener('click', () => this.openZone(null, this.newZoneButton));
    this.newStopButton = el('button', { type: 'button', className: 'button button-small', id: 'stop-new' }, this.t('places.editor.newStop'));
    this.newStopButton.addEventListener('click', () => this.openStop(null, this.newStopButton));
    this.note = el('p', { className: 'form-error', id: 'places-editor-note', hidden: true });
    this.section = el(
      'section',
      { id: 'places-editor', className: 'places-editor', hidden: true },
      el('h3', { id: 'places-editor-title' }, this.t('places.editor.title')),
      el('p', { className: 'field-hint' }, this.t('places.editor.hint')),
      this.note,
      el('h4', { id: 'places-zones-title' }, this.t('places.editor.zones')),
      this.zoneEmpty,
      this.zoneList,
      el('p', {}, this.newZoneButton),
      this.buildDrawBar(),
      el('h4', { id: 'places-stops-title' }, this.t('places.editor.stops')),
      this.stopEmpty,
      this.stopList,
      el('p', {}, this.newStopButton),
    );
    this.section.setAttribute('aria-labelledby', 'places-editor-title');
    this.zoneList.setAttribute('aria-labelledby', 'places-zones-title');
    this.stopList.setAttribute('aria-labelledby', 'places-stops-title');
    this.doc.getElementById('staff').append(this.section);
    this.buildZoneDialog();
    this.buildStopDialog();
  }

  /** Reads the merged lists again, puts them in the page (mirror, tour) and in the editor's lists. */
  async refresh() {
    const response = await fetch(`/api/scenes/${enc(this.sceneId)}/places`, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const places = await response.json();
    this.apply(places);
  }

  apply(places) {
    this.zones = places.zones || [];
    this.tour = places.tour || [];
    applyPlaces(this.navigation, places);
    this.render();
  }

  /** A visually hidden name after a button's verb, so "Edit" says which item (in its own language). */
  named(button, texts) {
    const name = this.i18n.pickWithLang(texts);
    const label = this.el('span', { className: 'visually-hidden' }, ` ${name.text}`);
    if (name.lang !== this.i18n.lang) label.lang = name.lang;
    button.append(label);
    return button;
  }

  button(text, id, onClick) {
    const button = this.el('button', { type: 'button', className: 'button button-small button-quiet', id }, text);
    button.addEventListener('click', onClick);
    return button;
  }

  render() {
    const { el, i18n } = this;
    const stored = this.zones.filter((zone) => zone.source === 'store');
    this.zoneEmpty.hidden = stored.length > 0;
    this.zoneList.replaceChildren(
      ...stored.map((zone) => {
        const name = el('span', { className: 'places-edit-name' });
        i18n.setText(name, zone.name);
        const edit = this.named(this.button(this.t('places.editor.edit'), `zone-edit-${zone.record}`, (e) => this.openZone(zone, e.currentTarget)), zone.name);
        const remove = this.named(this.button(this.t('places.editor.delete'), `zone-delete-${zone.record}`, () => this.deleteZone(zone)), zone.name);
        return el('li', { className: 'places-edit-item' }, name, ' ', edit, ' ', remove);
      }),
    );
    const stops = this.tour.filter((stop) => stop.source === 'store');
    this.stopEmpty.hidden = stops.length > 0;
    this.stopList.replaceChildren(
      ...stops.map((stop, index) => {
        const label = this.stopLabel(stop);
        const text = el('span', { className: 'places-edit-name' });
        i18n.setText(text, label);
        const controls = [
          this.named(this.button(this.t('places.editor.edit'), `stop-edit-${stop.record}`, (e) => this.openStop(stop, e.currentTarget)), label),
          this.named(this.button(this.t('places.editor.moveUp'), `stop-up-${stop.record}`, () => this.moveStop(stop, index - 1, 'up')), label),
          this.named(this.button(this.t('places.editor.moveDown'), `stop-down-${stop.record}`, () => this.moveStop(stop, index + 1, 'down')), label),
          this.named(this.button(this.t('places.editor.delete'), `stop-delete-${stop.record}`, () => this.deleteStop(stop)), label),
        ];
        // At an end, moving further does nothing: aria-disabled keeps the button focusable (as tour.js does).
        controls[1].setAttribute('aria-disabled', String(index === 0));
        controls[2].setAttribute('aria-disabled', String(index === stops.length - 1));
        const li = el('li', { className: 'places-edit-item' }, text);
        for (const control of controls) li.append(' ', control);
        return li;
      }),
    );
  }

  /** A stop's name in the lists: its title, else the start of its narration. */
  stopLabel(stop) {
    if (stop.title && Object.keys(stop.title).length) return stop.title;
    const narration = {};
    for (const [lang, text] of Object.entries(stop.narration || {})) narration[lang] = text.length > 60 ? `${text.slice(0, 57)}…` : text;
    return narration;
  }

  /** Where the staff member stands and looks: feet position and view in degrees (null before the walker). */
  pose() {
    const w = this.navigation.walker;
    if (!w) return null;
    const round = (v) => Math.round(v * 1000) / 1000;
    const pitch = Math.max(-89, Math.min(89, w.pitch * DEGREES));
    let yaw = (w.yaw * DEGREES) % 360;
    if (yaw > 180) yaw -= 360;
    if (yaw < -180) yaw += 360;
    return { position: [round(w.x), round(w.y), round(w.z)], yaw: round(yaw), pitch: round(pitch) };
  }

  // --- the forms ---------------------------------------------------------------------------------------------

  /** Fieldsets of one text input (or textarea) per language, English required where `required`. */
  languageFields(prefix, fields) {
    const inputs = {};
    const groups = LANGUAGES.map((lang) => {
      const group = this.el('fieldset', { className: 'pref-group lang-group' });
      const legend = this.el('legend', {}, this.el('span', { lang }, LANGUAGE_NAMES[lang]));
      group.append(legend);
      for (const { name, label, multiline, required, max } of fields) {
        const id = `${prefix}-${name}-${lang}`;
        const input = multiline
          ? this.el('textarea', { id, rows: 3, maxLength: max, lang, className: 'text-input' })
          : this.el('input', { type: 'text', id, maxLength: max, lang, className: 'text-input' });
        if (required && lang === 'en') {
          input.required = true;
          input.setAttribute('aria-required', 'true');
        }
        const text = required && lang === 'en' ? `${label} ${this.t('places.editor.required')}` : label;
        group.append(this.el('label', { htmlFor: id }, text), input);
        inputs[`${name}-${lang}`] = input;
      }
      return group;
    });
    return { inputs, groups };
  }

  texts(inputs, name) {
    const out = {};
    for (const lang of LANGUAGES) {
      const value = inputs[`${name}-${lang}`].value.trim();
      if (value) out[lang] = value;
    }
    return out;
  }

  fillTexts(inputs, name, texts) {
    for (const lang of LANGUAGES) inputs[`${name}-${lang}`].value = texts?.[lang] || '';
  }

  dialog(id, titleId) {
    const { el } = this;
    const dialog = el('dialog', { id, className: 'dialog editor-dialog' });
    dialog.setAttribute('aria-labelledby', titleId);
    const title = el('h2', { id: titleId });
    const close = el('button', { type: 'button', className: 'button button-small dialog-close' }, this.t('dialog.close'));
    close.addEventListener('click', () => dialog.close());
    const error = el('div', { className: 'form-error', id: `${id}-error`, hidden: true });
    error.setAttribute('role', 'alert');
    dialog.append(el('div', { className: 'dialog-head' }, title, close));
    this.doc.body.append(dialog);
    return { dialog, title, error };
  }

  actions(form, saveId, dialog) {
    const save = this.el('button', { type: 'submit', className: 'button', id: saveId }, this.t('editor.save'));
    const cancel = this.el('button', { type: 'button', className: 'button button-quiet' }, this.t('editor.cancel'));
    cancel.addEventListener('click', () => dialog.close());
    form.append(this.el('div', { className: 'form-actions' }, save, cancel));
  }

  buildZoneDialog() {
    const { el } = this;
    const { dialog, title, error } = this.dialog('zone-form', 'zone-form-title');
    Object.assign(this, { zoneDialog: dialog, zoneTitle: title, zoneError: error });
    // Leaving the form any way but to walk to a corner ends the preview.
    dialog.addEventListener('close', () => this.drawing || this.setPreview(null));
    this.zoneSize = el('select', { id: 'zone-size', className: 'form-select' });
    for (const [size, metres] of Object.entries(SIZES)) {
      this.zoneSize.append(el('option', { value: size }, this.t(`places.editor.size.${size}`, { metres })));
    }
    this.zoneSize.value = 'room';
    this.zoneSizeRow = el('p', { className: 'form-field' }, el('label', { htmlFor: 'zone-size' }, this.t('places.editor.size')), this.zoneSize);
    // The zone's area: kept (an edit), around the feet, or drawn.
    this.zoneShapes = {};
    this.zoneShapeRows = {};
    const shapeGroup = el('fieldset', { className: 'pref-group', id: 'zone-shape' }, el('legend', {}, this.t('places.editor.draw.shape')));
    for (const shape of ['keep', 'around', 'draw']) {
      const id = `zone-shape-${shape}`;
      const radio = el('input', { type: 'radio', name: 'zone-shape', id, value: shape });
      radio.addEventListener('change', () => this.showShape());
      this.zoneShapes[shape] = radio;
      this.zoneShapeRows[shape] = el('div', { className: 'check' }, radio, el('label', { htmlFor: id }, this.t(`places.editor.draw.${shape}`)));
      shapeGroup.append(this.zoneShapeRows[shape]);
    }
    this.zoneWhere = el('p', { className: 'field-hint', id: 'zone-where' });
    const { inputs, groups } = this.languageFields('zone', [
      { name: 'name', label: this.t('places.editor.name'), required: true, max: 120 },
      { name: 'description', label: this.t('places.editor.description'), multiline: true, max: 4000 },
    ]);
    this.zoneInputs = inputs;
    const form = el(
      'form',
      { className: 'stack-form', noValidate: true, id: 'zone-form-fields' },
      error,
      shapeGroup,
      this.zoneWhere,
      this.zoneSizeRow,
      this.buildDrawFields(),
      ...groups,
    );
    this.actions(form, 'zone-save', dialog);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveZone();
    });
    dialog.append(form);
  }

  /** "Draw the area" in the zone form: what to do, "Mark first corner here", and the corners as numbers. */
  buildDrawFields() {
    const { el } = this;
    this.drawStatus = el('p', { className: 'field-hint', id: 'zone-draw-status', tabIndex: -1 });
    const first = el('button', { type: 'button', className: 'button button-small', id: 'zone-draw-first' }, this.t('places.editor.draw.markFirst'));
    first.addEventListener('click', () => this.markFirstCorner());
    this.cornerInputs = {};
    const corner = (end) => {
      const legend = this.t(end === 'min' ? 'places.editor.draw.lower' : 'places.editor.draw.upper');
      const group = el('fieldset', { className: 'pref-group' }, el('legend', {}, legend));
      for (const axis of AXES) {
        const id = `zone-${end}-${axis}`;
        const label = this.t(`places.editor.draw.${axis}`);
        const input = el('input', { type: 'text', id, inputMode: 'decimal', className: 'text-input', maxLength: 12, autocomplete: 'off' });
        input.setAttribute('aria-describedby', 'zone-draw-hint');
        input.dataset.name = `${legend}, ${label}`; // names the field in an error message
        input.addEventListener('input', () => this.previewFields());
        this.cornerInputs[`${end}-${axis}`] = input;
        group.append(el('label', { htmlFor: id }, label), input);
      }
      return group;
    };
    this.drawFields = el(
      'div',
      { id: 'zone-draw' },
      this.drawStatus,
      el('p', {}, first),
      corner('min'),
      corner('max'),
      el('p', { className: 'field-hint', id: 'zone-draw-hint' }, this.t('places.editor.draw.fieldsHint')),
    );
    return this.drawFields;
  }

  /** The bar shown in the Staff section while walking to the opposite corner (the form is closed meanwhile). */
  buildDrawBar() {
    const { el } = this;
    this.drawWalk = el('p', { id: 'zone-draw-walk' });
    const mark = this.button(this.t('places.editor.draw.markSecond'), 'zone-draw-mark', () => this.markOppositeCorner());
    mark.classList.remove('button-quiet');
    this.drawMarkButton = mark;
    const back = this.button(this.t('places.editor.draw.back'), 'zone-draw-back', () => this.backToZoneForm());
    const stop = this.button(this.t('places.editor.draw.stop'), 'zone-draw-stop', () => this.stopDrawing());
    const title = el('h4', { id: 'zone-draw-bar-title' }, this.t('places.editor.draw.barTitle'));
    this.drawBar = el('div', { id: 'zone-draw-bar', className: 'places-draw-bar', hidden: true }, title, this.drawWalk, el('p', {}, mark, ' ', back, ' ', stop));
    this.drawBar.setAttribute('role', 'group');
    this.drawBar.setAttribute('aria-labelledby', 'zone-draw-bar-title');
    return this.drawBar;
  }

  buildStopDialog() {
    const { el } = this;
    const { dialog, title, error } = this.dialog('stop-form', 'stop-form-title');
    Object.assign(this, { stopDialog: dialog, stopTitle: title, stopError: error });
    this.stopMove = el('input', { type: 'checkbox', id: 'stop-move' });
    this.stopMoveRow = el('div', { className: 'check' }, this.stopMove, el('label', { htmlFor: 'stop-move' }, this.t('places.editor.stopMoveHere')));
    this.stopWhere = el('p', { className: 'field-hint', id: 'stop-where' });
    const { inputs, groups } = this.languageFields('stop', [
      { name: 'title', label: this.t('places.editor.stopTitle'), max: 120 },
      { name: 'narration', label: this.t('places.editor.narration'), multiline: true, required: true, max: 4000 },
    ]);
    this.stopInputs = inputs;
    const form = el('form', { className: 'stack-form', noValidate: true, id: 'stop-form-fields' }, error, this.stopWhere, this.stopMoveRow, ...groups);
    this.actions(form, 'stop-save', dialog);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveStop();
    });
    dialog.append(form);
  }

  showError(box, message) {
    box.hidden = !message;
    box.textContent = message || '';
    if (message) {
      box.tabIndex = -1;
      box.focus();
    }
  }

  openZone(zone, opener) {
    this.endDrawing();
    this.editingZone = zone;
    this.zoneOpener = opener;
    this.showError(this.zoneError, null);
    this.markInvalid([]);
    this.zoneTitle.textContent = this.t(zone ? 'places.editor.editZone' : 'places.editor.draw.newZoneTitle');
    this.fillTexts(this.zoneInputs, 'name', zone?.name);
    this.fillTexts(this.zoneInputs, 'description', zone?.description);
    this.zoneShapeRows.keep.hidden = !zone;
    this.zoneShapes[zone ? 'keep' : 'around'].checked = true;
    this.fillCorners(zone?.area || null);
    this.drawStatus.textContent = zone ? this.t('places.editor.draw.current', this.sizeWords(zone.area)) : this.t('places.editor.draw.howTo');
    this.zoneWhere.textContent = this.t('places.editor.zoneWhere', { place: this.navigation.placeName(this.pose()?.position) });
    this.showShape();
    // Focus on the form's first control, the area choice (the name comes after it): reading down from there
    // misses nothing, and the dialog starts at its top with its heading in view.
    this.zoneDialog.scrollTop = 0;
    openModal(this.zoneDialog, opener, this.zoneShapes[zone ? 'keep' : 'around']);
  }

  // --- drawing a zone ----------------------------------------------------------------------------------------

  zoneShape() {
    return Object.values(this.zoneShapes).find((radio) => radio.checked)?.value || 'around';
  }

  /** Shows the controls of the chosen area (size around the feet, or the drawing) and previews a drawn one. */
  showShape() {
    const shape = this.zoneShape();
    this.zoneSizeRow.hidden = this.zoneWhere.hidden = shape !== 'around';
    this.drawFields.hidden = shape !== 'draw';
    this.previewFields();
  }

  fillCorners(box) {
    for (const end of ['min', 'max']) {
      AXES.forEach((axis, i) => (this.cornerInputs[`${end}-${axis}`].value = box ? formatCoordinate(box[end][i]) : ''));
    }
  }

  /** The box the fields hold, as numbers (null where a field is not one). */
  typedBox() {
    const read = (end) => AXES.map((axis) => parseCoordinate(this.cornerInputs[`${end}-${axis}`].value));
    return { min: read('min'), max: read('max') };
  }

  markInvalid(fields) {
    for (const [field, input] of Object.entries(this.cornerInputs)) {
      if (fields.includes(field)) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  sizeWords(box) {
    const { width, depth } = boxSize(box);
    const format = new Intl.NumberFormat(this.i18n.lang, { maximumFractionDigits: 2 });
    const fmt = (v) => format.format(v);
    return { width: fmt(width), depth: fmt(depth), height: fmt(Math.round((box.max[1] - box.min[1]) * 100) / 100) };
  }

  /** "Mark first corner here": the form closes so the staff member can walk; the bar waits for the other corner. */
  markFirstCorner() {
    const pose = this.pose();
    if (!pose) return this.showError(this.zoneError, this.t('places.editor.noPose'));
    this.drawing = { first: pose.position };
    this.fillCorners(clampToBounds(boxFromCorners(pose.position, pose.position), this.bounds));
    const format = new Intl.NumberFormat(this.i18n.lang, { maximumFractionDigits: 1 });
    const [x, , z] = pose.position.map((v) => format.format(v));
    const view = this.doc.getElementById('view');
    const in3d = Boolean(view && !view.hidden && this.doc.body.dataset.mode === '3d');
    const text = this.t(in3d ? 'places.editor.draw.firstMarked3d' : 'places.editor.draw.firstMarked', { x, z });
    this.drawWalk.textContent = text;
    this.drawBar.hidden = false;
    if (in3d) {
      // Walking happens in the 3D view (its keys act only while it has focus): Enter there marks the other corner,
      // so the staff member need not leave it for the Staff section's button.
      this.onViewKey = (event) => {
        if (event.key !== 'Enter' || event.ctrlKey || event.altKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        this.markOppositeCorner();
      };
      this.drawView = view;
      view.addEventListener('keydown', this.onViewKey);
      this.setViewHint(this.t('places.editor.draw.viewHint'));
    }
    const walkFrom = in3d ? view : this.drawMarkButton;
    // After the dialog's own close handler (focus back to its opener): focus where the walking happens.
    this.zoneDialog.addEventListener('close', () => walkFrom.focus(), { once: true });
    this.zoneDialog.close();
    this.followWalker();
    this.announcer.say(text, { repeat: true });
  }

  /** "Mark opposite corner here": the box between the corners, in the fields, and the form again. */
  markOppositeCorner() {
    const pose = this.pose();
    if (!this.drawing || !pose) return;
    const box = clampToBounds(boxFromCorners(this.drawing.first, pose.position), this.bounds);
    this.endDrawing();
    this.fillCorners(box);
    this.zoneShapes.draw.checked = true;
    this.showShape();
    const text = this.t('places.editor.draw.drawn', this.sizeWords(box));
    this.drawStatus.textContent = text;
    openModal(this.zoneDialog, this.zoneOpener, this.drawStatus);
    this.announcer.say(text, { repeat: true });
  }

  backToZoneForm() {
    this.endDrawing();
    this.showShape();
    openModal(this.zoneDialog, this.zoneOpener, this.drawStatus);
  }

  stopDrawing() {
    this.endDrawing();
    this.setPreview(null);
    this.newZoneButton.focus();
    this.announcer.say(this.t('places.editor.draw.stopped'), { repeat: true });
  }

  endDrawing() {
    if (this.drawView) {
      this.drawView.removeEventListener('keydown', this.onViewKey);
      this.setViewHint(this.editing ? this.t('editor.viewHint') : null); // edit mode's own hint again
    }
    this.drawView = null;
    this.drawing = null;
    if (this.drawBar) this.drawBar.hidden = true;
  }

  /** While walking to the opposite corner: the preview stretches from the first corner to the feet. */
  followWalker() {
    const win = this.doc.defaultView;
    if (!this.three() || !win) return; // no 3D view: nothing to draw
    let last = '';
    const step = () => {
      if (!this.drawing) return;
      const pose = this.pose();
      const key = pose ? pose.position.join() : '';
      if (pose && key !== last) {
        last = key;
        this.setPreview(clampToBounds(boxFromCorners(this.drawing.first, pose.position), this.bounds));
      }
      win.requestAnimationFrame(step);
    };
    step();
  }

  /** The fields' box in the preview while "Draw the area" is chosen in the open form, when it is a good one. */
  previewFields() {
    if (!this.zoneDialog.open && !this.drawing) return;
    const box = this.typedBox();
    const good = this.zoneShape() === 'draw' && boxProblems(box, null).length === 0;
    this.setPreview(good ? box : null);
  }

  /** Shows `box` (null: hides) in the 3D view, loading the preview the first time; the section says which. */
  setPreview(box) {
    this.previewBox = box;
    if (!box && !this.previewReady) return;
    if (!this.previewReady) {
      const three = this.three();
      if (!three) return;
      this.previewReady = import('./zone-draw-preview.js').then(({ ZonePreview }) => new ZonePreview(three)).catch(() => null);
    }
    this.previewReady.then((preview) => {
      if (!preview) return;
      if (this.previewBox) preview.show(this.previewBox);
      else preview.hide();
      this.section.dataset.preview = preview.visible ? 'shown' : 'hidden';
    });
  }

  openStop(stop, opener) {
    this.editingStop = stop;
    this.showError(this.stopError, null);
    this.stopTitle.textContent = this.t(stop ? 'places.editor.editStop' : 'places.editor.newStopTitle');
    this.fillTexts(this.stopInputs, 'title', stop?.title);
    this.fillTexts(this.stopInputs, 'narration', stop?.narration);
    this.stopMoveRow.hidden = !stop;
    this.stopMove.checked = false;
    this.stopWhere.textContent = stop ? '' : this.t('places.editor.stopWhere', { place: this.navigation.placeName(this.pose()?.position) });
    openModal(this.stopDialog, opener, this.stopInputs['title-en']);
  }

  /**
   * Sends a write; returns the saved body, or null. On 409 the lists are read again and it says someone else
   * changed it; errors go in `errorBox` (a form's) or, for the list's own buttons, in the section's note.
   */
  async send(url, options, errorBox = null) {
    const fail = (message) => {
      if (errorBox) this.showError(errorBox, message);
      else Object.assign(this.note, { textContent: message, hidden: false });
      this.announcer.say(message, { repeat: true });
    };
    Object.assign(this.note, { textContent: '', hidden: true });
    try {
      const { status, body } = await this.session.write(url, options);
      if (status === 409) {
        await this.refresh().catch(() => {});
        fail(this.t('places.editor.conflict'));
        return null;
      }
      return body;
    } catch (error) {
      fail(this.t('editor.error', { message: error.message }));
      return null;
    }
  }

  async saveZone() {
    const name = this.texts(this.zoneInputs, 'name');
    if (!name.en) {
      this.zoneInputs['name-en'].setAttribute('aria-invalid', 'true');
      this.showError(this.zoneError, this.t('places.editor.nameRequired'));
      return;
    }
    this.zoneInputs['name-en'].removeAttribute('aria-invalid');
    const body = { name, description: this.texts(this.zoneInputs, 'description') };
    const zone = this.editingZone;
    const shape = this.zoneShape();
    if (shape === 'draw') {
      const box = this.typedBox();
      const problems = boxProblems(box, this.bounds);
      this.markInvalid(problems.map((p) => p.field));
      if (problems.length) {
        const { field, problem } = problems[0];
        return this.showError(this.zoneError, this.t(`places.editor.draw.problem.${problem}`, { field: this.cornerInputs[field].dataset.name }));
      }
      body.area = box;
    } else if (shape === 'around') {
      const pose = this.pose();
      if (!pose) return this.showError(this.zoneError, this.t('places.editor.noPose'));
      const metres = SIZES[this.zoneSize.value] || SIZES.room;
      body.around = { position: pose.position, size: [metres, metres] };
    }
    const saved = zone
      ? await this.send(`/api/zones/${zone.record}`, { method: 'PATCH', body: { version: zone.version, ...body } }, this.zoneError)
      : await this.send(`/api/scenes/${enc(this.sceneId)}/zones`, { body }, this.zoneError);
    if (!saved) return;
    this.zoneDialog.close();
    await this.refresh().catch(() => {});
    this.announcer.say(this.t(zone ? 'places.editor.zoneSaved' : 'places.editor.zoneAdded', { name: this.i18n.pick(saved.name) }), { repeat: true });
  }

  async saveStop() {
    const narration = this.texts(this.stopInputs, 'narration');
    if (!narration.en) {
      this.stopInputs['narration-en'].setAttribute('aria-invalid', 'true');
      this.showError(this.stopError, this.t('places.editor.narrationRequired'));
      return;
    }
    this.stopInputs['narration-en'].removeAttribute('aria-invalid');
    const body = { title: this.texts(this.stopInputs, 'title'), narration };
    const stop = this.editingStop;
    if (!stop || this.stopMove.checked) {
      const pose = this.pose();
      if (!pose) return this.showError(this.stopError, this.t('places.editor.noPose'));
      Object.assign(body, pose);
    }
    const saved = stop
      ? await this.send(`/api/tour-stops/${stop.record}`, { method: 'PATCH', body: { version: stop.version, ...body } }, this.stopError)
      : await this.send(`/api/scenes/${enc(this.sceneId)}/tour`, { body }, this.stopError);
    if (!saved) return;
    this.stopDialog.close();
    await this.refresh().catch(() => {});
    const count = this.tour.length;
    this.announcer.say(this.t(stop ? 'places.editor.stopSaved' : 'places.editor.stopAdded', { number: count }), { repeat: true });
  }

  async deleteZone(zone) {
    const saved = await this.send(`/api/zones/${zone.record}?version=${zone.version}`, { method: 'DELETE' });
    if (!saved) return;
    await this.refresh().catch(() => {});
    this.newZoneButton.focus(); // the item is gone: the next useful control
    this.announcer.say(this.t('places.editor.zoneDeleted', { name: this.i18n.pick(zone.name) }), { repeat: true });
  }

  async deleteStop(stop) {
    const saved = await this.send(`/api/tour-stops/${stop.record}?version=${stop.version}`, { method: 'DELETE' });
    if (!saved) return;
    await this.refresh().catch(() => {});
    this.newStopButton.focus();
    this.announcer.say(this.t('places.editor.stopDeleted'), { repeat: true });
  }

  async moveStop(stop, order, direction) {
    const stored = this.tour.filter((s) => s.source === 'store');
    if (order < 0 || order >= stored.length) return; // at an end (aria-disabled)
    const saved = await this.send(`/api/tour-stops/${stop.record}`, { method: 'PATCH', body: { version: stop.version, order } });
    if (!saved) return;
    await this.refresh().catch(() => {});
    // Focus stays on the same control of the moved stop (or the other direction's, at an end).
    const same = this.doc.getElementById(`stop-${direction}-${stop.record}`);
    const other = this.doc.getElementById(`stop-${direction === 'up' ? 'down' : 'up'}-${stop.record}`);
    (same?.getAttribute('aria-disabled') === 'true' ? other : same)?.focus();
    this.announcer.say(this.t('places.editor.stopMoved', { number: order + 1, count: stored.length }), { repeat: true });
  }
}
