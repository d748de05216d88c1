// PreferencesDialog — the "Preferences" modal of every page: reduced motion, high contrast, text
// size, and on scene pages movement speed and name tags. Built from Prefs and I18n (no markup in
// the pages), every change applies at once and is kept in this browser only.
//
// Invariants: each control is a native checkbox or radio with a visible label; the dialog stays in
// sync when a preference changes elsewhere (the N key, the name-tag box in the side panel).

import { MOVE_SPEEDS, TEXT_SIZES } from './prefs.js';
import { elementMaker, openModal } from './modal.js';

export class PreferencesDialog {
  constructor(doc, i18n, prefs, { scene = false } = {}) {
    Object.assign(this, { doc, i18n, prefs, scene });
    this.dialog = this.build();
    doc.body.append(this.dialog);
    prefs.onChange(() => this.sync());
    this.sync();
  }

  open(opener) {
    openModal(this.dialog, opener, this.closeButton);
  }

  close() {
    this.dialog.close();
  }

  build() {
    const { doc, i18n, prefs } = this;
    const el = elementMaker(doc);
    const dialog = el('dialog', { id: 'prefs-dialog', className: 'dialog' });
    dialog.setAttribute('aria-labelledby', 'prefs-title');
    this.closeButton = el('button', { type: 'button', className: 'button button-small dialog-close' }, i18n.t('dialog.close'));
    this.closeButton.addEventListener('click', () => dialog.close());
    const head = el('div', { className: 'dialog-head' }, el('h2', { id: 'prefs-title' }, i18n.t('prefs.title')), this.closeButton);
    const note = el('p', { className: 'dialog-note' }, i18n.t('prefs.note'));

    const check = (id, label, hint, onChange) => {
      const input = el('input', { type: 'checkbox', id });
      input.addEventListener('change', () => onChange(input.checked));
      const row = el('div', { className: 'check' }, input, el('label', { htmlFor: id }, label));
      if (!hint) return [row, input];
      const hintId = `${id}-hint`;
      input.setAttribute('aria-describedby', hintId);
      return [el('div', { className: 'pref' }, row, el('p', { id: hintId, className: 'field-hint' }, hint)), input];
    };
    const radios = (name, legend, options, onChange) => {
      const inputs = [];
      const fieldset = el('fieldset', { className: 'pref-group' }, el('legend', {}, legend));
      for (const [value, label] of options) {
        const id = `pref-${name}-${String(value).replace('.', '_')}`;
        const input = el('input', { type: 'radio', name: `pref-${name}`, id, value: String(value) });
        input.addEventListener('change', () => input.checked && onChange(Number(value)));
        inputs.push(input);
        fieldset.append(el('div', { className: 'check' }, input, el('label', { htmlFor: id }, label)));
      }
      return [fieldset, inputs];
    };

    const [motionRow, motion] = check('pref-motion', i18n.t('prefs.motion'), i18n.t('prefs.motionHint'), (v) => prefs.set('reducedMotion', v));
    const [contrastRow, contrast] = check('pref-contrast', i18n.t('prefs.contrast'), i18n.t('prefs.contrastHint'), (v) => prefs.set('highContrast', v));
    const [sizeGroup, sizes] = radios('text', i18n.t('prefs.textSize'), TEXT_SIZES.map((size) => [size, `${size} %`]), (v) => prefs.set('textSize', v));
    this.inputs = { motion, contrast, sizes };
    dialog.append(head, note, motionRow, contrastRow, sizeGroup);
    if (this.scene) {
      const labels = { 0.5: i18n.t('prefs.speedSlow'), 1: i18n.t('prefs.speedNormal'), 1.5: i18n.t('prefs.speedFast') };
      const [speedGroup, speeds] = radios('speed', i18n.t('prefs.speed'), MOVE_SPEEDS.map((s) => [s, labels[s]]), (v) => prefs.set('moveSpeed', v));
      const [namesRow, names] = check('pref-names', i18n.t('prefs.nameTags'), null, (v) => prefs.set('nameTags', v));
      Object.assign(this.inputs, { speeds, names });
      dialog.append(speedGroup, namesRow);
    }
    return dialog;
  }

  sync() {
    const { prefs, inputs } = this;
    inputs.motion.checked = prefs.reducedMotion;
    inputs.contrast.checked = prefs.highContrast;
    for (const input of inputs.sizes) input.checked = Number(input.value) === prefs.get('textSize');
    if (inputs.speeds) for (const input of inputs.speeds) input.checked = Number(input.value) === prefs.get('moveSpeed');
    if (inputs.names) inputs.names.checked = prefs.get('nameTags');
  }
}
