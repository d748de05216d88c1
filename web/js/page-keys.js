// Page keys — the scene page's keyboard paths that are not walking: the remappable shortcuts (help,
// where am I, entrance, places, view, the tour, name tags), the Help and keys dialog, and Esc in the
// places list or the tour going back to the 3D view.
//
// Given the few things it needs: preferences (the remapped keys), i18n, the scene UI (the view), the
// navigation (places, tour, jumps), whether the 3D view is in use now, and the name-tags toggle.
// Invariants: the shortcuts work in 3D and text mode alike; "view" focuses the 3D view when it is shown,
// else the places list; Esc never leaves the panels for a hidden view.

import { HelpDialog, Shortcuts } from './shortcuts.js';

/**
 * @param {Document} doc
 * @param {{prefs: import('./prefs.js').Prefs, i18n: import('./i18n.js').I18n, ui: import('./ui.js').SceneUI,
 *          navigation: import('./navigation.js').Navigation, in3d: () => boolean, toggleNames: () => void}} options
 */
export function setUpPageKeys(doc, { prefs, i18n, ui, navigation, in3d, toggleNames }) {
  const { mirror, tour } = navigation;
  const viewShown = () => in3d() && !ui.view.hidden;
  const shortcuts = new Shortcuts(doc, prefs, {
    help: () => help.open(doc.activeElement),
    whereAmI: () => navigation.whereAmI(),
    entrance: () => navigation.goToEntrance(),
    places: () => mirror.zones.focus(),
    view: () => (viewShown() ? ui.view.focus() : mirror.zones.focus()),
    tourPlay: () => tour.toggle(),
    tourPrev: () => tour.previous(),
    tourNext: () => tour.next(),
    names: toggleNames,
  });
  const help = new HelpDialog(doc, i18n, shortcuts);
  const helpButton = doc.getElementById('help-button');
  helpButton.addEventListener('click', () => help.open(helpButton));
  // Esc in the mirror or the tour goes back to the 3D view (focus into the panels, and back).
  for (const section of [mirror.section, tour.section]) {
    section.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && viewShown()) {
        event.preventDefault();
        ui.view.focus();
      }
    });
  }
}
