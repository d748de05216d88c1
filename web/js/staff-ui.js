// StaffUI — the staff's part of the scene page: the "Staff sign-in" link and dialog, the Staff section
// (who is signed in, Edit mode, Place a hotspot here, Sign out) and the staff editors (hotspots: editor.js; zones
// and tour stops: places-editor.js), which are downloaded only when an editor or admin signs in (or a session is
// restored) and go again on sign-out.
//
// Given the few things it needs: the page's i18n and announcer, the scene id, the hotspot view (the editor
// edits its store, asks it for ray casts and decorates its list) and `setViewHint` (the hint over the 3D
// view). Invariants: the editor gets a narrow object (editor.js's constructor lists it), never the page;
// `editorReady` resolves to the editor or to null when it could not be loaded (said once), so buttons that
// await it never leave an unhandled rejection; after sign-out the page is a resident's again.

import { SignInDialog, StaffSession } from './staff-signin.js';

export class StaffUI {
  /**
   * @param {Document} doc
   * @param {{i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer, sceneId: string,
   *          hotspotView: import('./hotspot-view.js').HotspotView, setViewHint: (text: string | null) => void,
   *          session?: StaffSession}} options
   */
  constructor(doc, { i18n, announcer, sceneId, hotspotView, setViewHint, session = new StaffSession() }) {
    Object.assign(this, { doc, i18n, announcer, sceneId, hotspotView, setViewHint, session });
    this.editor = null;
    this.editorReady = null;
    const link = doc.getElementById('staff-signin');
    const toggle = doc.getElementById('edit-toggle');
    const place = doc.getElementById('place-here');
    const signOut = doc.getElementById('sign-out');
    const dialog = new SignInDialog(doc, {
      i18n,
      announcer,
      session,
      onSignedIn: () => (session.canEdit ? toggle : signOut).focus(),
    });
    link.addEventListener('click', () => dialog.open(link));
    toggle.addEventListener('click', async () => {
      const editor = await this.editorReady;
      if (!editor) return; // not an editor, or the editor failed to load (already said)
      editor.setEditing(!editor.editing);
      this.places?.setEditing(editor.editing);
      announcer.say(i18n.t(editor.editing ? 'editor.on' : 'editor.off'));
    });
    place.addEventListener('click', async () => (await this.editorReady)?.placeHere(place));
    signOut.addEventListener('click', async () => {
      await session.signOut().catch(() => {});
      announcer.say(i18n.t('staff.signedOut'));
      link.focus();
    });
    session.onChange((user) => this.onSession(user));
    session.restore();
  }

  /** The signed-in user ({username, role}) or null. */
  get user() {
    return this.session.user;
  }

  get editing() {
    return Boolean(this.editor?.editing);
  }

  onSession(user) {
    const { doc, i18n, session } = this;
    doc.getElementById('staff').hidden = !user;
    doc.getElementById('staff-signin-item').hidden = Boolean(user);
    doc.getElementById('edit-toggle').hidden = !session.canEdit;
    if (user) {
      const role = i18n.t(`staff.role.${user.role}`);
      doc.getElementById('staff-who').textContent = i18n.t('staff.signedInAs', { name: user.username, role });
    }
    if (session.canEdit && !this.editorReady) {
      this.editorReady = import('./editor.js')
        .then(async ({ Editor }) => {
          this.editor = new Editor(this.editorContext());
          this.hotspotView.setEditor(this.editor);
          // Zones and tour stops (places-editor.js): edited in the Staff section while in edit mode.
          const { PlacesEditor } = await import('./places-editor.js');
          const { doc: d, announcer: a, sceneId } = this;
          const three = () => this.hotspotView.three ?? null;
          this.places = new PlacesEditor({ doc: d, i18n, announcer: a, session, sceneId, navigation: this.hotspotView.navigation, three, setViewHint: this.setViewHint });
          return this.editor;
        })
        .catch((error) => {
          this.announcer.say(i18n.t('editor.error', { message: error.message }));
          return null;
        });
    } else if (!session.canEdit && this.editorReady) {
      this.editorReady
        .then((editor) => {
          editor?.destroy();
          if (this.editor === editor) this.dropEditor(); // signed out while it was still loading
        })
        .catch(() => {});
      this.editorReady = null;
      this.dropEditor();
    }
  }

  dropEditor() {
    this.places?.destroy();
    this.places = null;
    this.editor = null;
    this.hotspotView.setEditor(null);
  }

  /** What the editor may touch: the hotspot store and a few of the hotspot view's abilities. */
  editorContext() {
    const { doc, i18n, announcer, session, sceneId, hotspotView: view } = this;
    return {
      doc,
      i18n,
      announcer,
      session,
      sceneId,
      hotspots: view.store,
      view: doc.getElementById('view'),
      can3d: () => view.can3d,
      surfaceAt: (ndc) => view.surfaceAt(ndc),
      pick: (ndc) => view.pick(ndc),
      select: (id) => view.select(id),
      placeName: (position) => view.navigation.placeName(position),
      setViewHint: this.setViewHint,
      onChange: () => view.render(),
      focusList: () => view.focusList(),
    };
  }
}
