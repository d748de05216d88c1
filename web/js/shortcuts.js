// Shortcuts — the page's keyboard shortcuts (help, where am I, back to the entrance, the places
// list, the 3D view, the tour, name tags), which the resident can remap in the help dialog; the
// remapped keys are kept in Prefs (this browser only).
//
// Keys are matched by `event.key` (a letter is the letter printed on the key, whatever the layout;
// the walking keys, matched by physical position, stay in controls-keyboard.js and cannot be taken).
// Invariants (WCAG 2.1.4, character key shortcuts): no shortcut fires while the resident types in a
// text field or a select, while a modal dialog is open, or with Ctrl/Alt/Meta held; every one can
// be remapped, and two actions never share a key.

import { openModal } from './modal.js';

export const DEFAULT_KEYS = {
  help: '?',
  whereAmI: 'L',
  entrance: 'Home',
  places: 'G',
  view: 'V',
  tourPlay: 'P',
  tourPrev: '[',
  tourNext: ']',
  names: 'N',
};

/** Keys the walking controls, the browser or assistive technology need. */
const RESERVED = new Set([
  'ARROWUP', 'ARROWDOWN', 'ARROWLEFT', 'ARROWRIGHT', 'PAGEUP', 'PAGEDOWN', 'W', 'A', 'S', 'D', 'Q', 'E', 'R',
  'Z', 'TAB', 'ENTER', 'ESCAPE', ' ', 'SHIFT', 'CONTROL', 'ALT', 'META', 'ALTGRAPH', 'CAPSLOCK', 'BACKSPACE',
  'CONTEXTMENU', 'DEAD', 'UNIDENTIFIED', 'PROCESS',
]);

/** The shortcut name of a key event: a printable key upper-cased ("l" → "L"), else its name ("Home"). */
export function keyName(event) {
  const key = event.key || '';
  return key.length === 1 ? key.toUpperCase() : key;
}

/** A key as the resident reads it ("Home", "L", "Space"). */
export function keyLabel(key) {
  return key === ' ' ? 'Space' : key;
}

function typingTarget(target) {
  return Boolean(
    target?.closest?.(
      'input:not([type="checkbox"]):not([type="radio"]):not([type="button"]):not([type="submit"]):not([type="reset"]), textarea, select, [contenteditable=""], [contenteditable="true"]',
    ),
  );
}

export class Shortcuts {
  /**
   * @param {Document} doc
   * @param {import('./prefs.js').Prefs} prefs
   * @param {Record<string, () => void>} handlers action -> what it does (actions without one are not listed)
   */
  constructor(doc, prefs, handlers) {
    Object.assign(this, { doc, prefs, handlers });
    this.onKeyDown = this.onKeyDown.bind(this);
    doc.addEventListener('keydown', this.onKeyDown);
  }

  actions() {
    return Object.keys(DEFAULT_KEYS).filter((action) => this.handlers[action]);
  }

  keyFor(action) {
    return this.prefs.get('keys')[action] || DEFAULT_KEYS[action];
  }

  onKeyDown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    if (typingTarget(event.target) || this.doc.querySelector('dialog[open]')) return;
    const key = keyName(event).toUpperCase();
    const action = this.actions().find((name) => this.keyFor(name).toUpperCase() === key);
    if (!action) return;
    event.preventDefault();
    if (!event.repeat) this.handlers[action]();
  }

  /** Binds `action` to `key`; returns null, or why not: 'reserved' | {taken: otherAction}. */
  remap(action, key) {
    const upper = key.toUpperCase();
    if (RESERVED.has(upper) || key.length === 0) return 'reserved';
    const other = this.actions().find((name) => name !== action && this.keyFor(name).toUpperCase() === upper);
    if (other) return { taken: other };
    const keys = { ...this.prefs.get('keys') };
    if (key === DEFAULT_KEYS[action]) delete keys[action];
    else keys[action] = key;
    this.prefs.set('keys', keys);
    return null;
  }

  reset() {
    this.prefs.set('keys', {});
  }
}

/**
 * HelpDialog — the "Keyboard and help" modal: the walking keys, then a table of the shortcuts,
 * each with a "Change" button (press it, then the new key; Esc cancels), and "Reset".
 */
export class HelpDialog {
  constructor(doc, i18n, shortcuts) {
    Object.assign(this, { doc, i18n, shortcuts });
    this.dialog = doc.getElementById('help-dialog');
    this.table = doc.getElementById('shortcut-rows');
    this.status = doc.getElementById('shortcut-status');
    this.closeButton = doc.getElementById('help-close');
    this.capturing = null;
    this.closeButton.addEventListener('click', () => this.dialog.close());
    doc.getElementById('shortcut-reset').addEventListener('click', () => {
      shortcuts.reset();
      this.render();
      this.status.textContent = i18n.t('shortcuts.resetDone');
    });
    this.dialog.addEventListener('keydown', (event) => this.onKeyDown(event), true);
    this.dialog.addEventListener('cancel', (event) => {
      if (this.capturing) event.preventDefault(); // Esc cancels the change, not the dialog
    });
    this.dialog.addEventListener('close', () => this.endCapture());
    this.render();
  }

  open(opener) {
    this.status.textContent = '';
    this.render();
    openModal(this.dialog, opener, this.closeButton);
  }

  get isOpen() {
    return this.dialog.open;
  }

  render() {
    const { doc, i18n, shortcuts } = this;
    this.table.replaceChildren(
      ...shortcuts.actions().map((action) => {
        const row = doc.createElement('tr');
        const name = row.appendChild(doc.createElement('th'));
        name.scope = 'row';
        name.id = `shortcut-${action}`;
        name.textContent = i18n.t(`shortcuts.${action}`);
        const keyCell = row.appendChild(doc.createElement('td'));
        const kbd = keyCell.appendChild(doc.createElement('kbd'));
        kbd.textContent = keyLabel(shortcuts.keyFor(action));
        const changeCell = row.appendChild(doc.createElement('td'));
        const button = changeCell.appendChild(doc.createElement('button'));
        button.type = 'button';
        button.className = 'button button-small button-quiet';
        button.dataset.action = action;
        const capturing = this.capturing === action;
        button.textContent = i18n.t(capturing ? 'shortcuts.pressKey' : 'shortcuts.change');
        const hidden = button.appendChild(doc.createElement('span'));
        hidden.className = 'visually-hidden';
        hidden.textContent = ` ${i18n.t('shortcuts.changeFor', { action: i18n.t(`shortcuts.${action}`) })}`;
        button.addEventListener('click', () => this.startCapture(action));
        return row;
      }),
    );
  }

  startCapture(action) {
    this.capturing = action;
    this.render();
    this.table.querySelector(`button[data-action="${action}"]`)?.focus();
    this.status.textContent = this.i18n.t('shortcuts.capture', { action: this.i18n.t(`shortcuts.${action}`) });
  }

  endCapture(refocus = false) {
    const action = this.capturing;
    this.capturing = null;
    this.render();
    if (refocus && action) this.table.querySelector(`button[data-action="${action}"]`)?.focus();
  }

  onKeyDown(event) {
    if (!this.capturing) return;
    const action = this.capturing;
    if (event.key === 'Tab') {
      this.endCapture();
      return; // let Tab move on
    }
    event.preventDefault();
    event.stopPropagation();
    if (event.key === 'Escape') {
      this.endCapture(true);
      this.status.textContent = this.i18n.t('shortcuts.cancelled');
      return;
    }
    if (['Shift', 'Control', 'Alt', 'Meta', 'AltGraph'].includes(event.key)) return; // wait for the key itself
    const key = keyName(event);
    const problem = this.shortcuts.remap(action, key);
    const { i18n } = this;
    if (problem === 'reserved') {
      this.status.textContent = i18n.t('shortcuts.reserved', { key: keyLabel(key) });
      return; // still waiting for another key
    }
    if (problem && problem.taken) {
      this.status.textContent = i18n.t('shortcuts.taken', { key: keyLabel(key), action: i18n.t(`shortcuts.${problem.taken}`) });
      return;
    }
    this.endCapture(true);
    this.status.textContent = i18n.t('shortcuts.changed', { action: i18n.t(`shortcuts.${action}`), key: keyLabel(key) });
  }
}
